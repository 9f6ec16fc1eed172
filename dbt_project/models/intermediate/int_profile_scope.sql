-- depends_on: {{ ref('int_scope_subjects') }}
-- depends_on: {{ ref('int_golden_subjects') }}
-- depends_on: {{ ref('int_touched_keys') }}, {{ ref('int_subject_scope') }}, {{ ref('fct_utility_bill_owner') }}, {{ ref('fct_gov_dishonest_case') }}
-- The subjects whose credit profile an incremental build recomputes: those whose facts or subject it may
-- change (macros/subject_scope.sql), the holders of the utility bills of a property with a new bill (a later
-- bill can make an earlier one stale), the agencies of the government cases it touched, and those whose
-- profile changes with the date (next_change_on: a penalty's or a listing's validity passed since). On a full
-- refresh, or the first build, empty: the profile is built whole. Reads mart_credit_profile by name, as the
-- previous build left it (that model refs this one).
{{ config(materialized='table', indexes=[{'columns': ['subject_key']}]) }}
{% set prev = adapter.get_relation(database=target.database, schema='marts', identifier='mart_credit_profile') %}
{% if prev is none or flags.FULL_REFRESH %}
select subject_key from {{ ref('int_golden_subjects') }} where false
{% else %}
with touched as (select item_code, natural_key_hash from {{ ref('int_touched_keys') }}),

bills as (select natural_key_hash, property_no, holder_subject_key from {{ ref('fct_utility_bill_owner') }})

{{ credit_scope_subjects() }}
union
select b.holder_subject_key from bills b
where b.holder_subject_key is not null
  and b.property_no in (select n.property_no from bills n
                        join touched t on t.item_code = 'utility_payment' and t.natural_key_hash = n.natural_key_hash)
union
select 'U:' || c.agency_uscc from {{ ref('fct_gov_dishonest_case') }} c
join touched t on t.item_code = 'gov_dishonest_debtor_case' and t.natural_key_hash = c.case_key
union
select subject_key from {{ prev }} where next_change_on <= {{ credit_today() }}
{% endif %}
