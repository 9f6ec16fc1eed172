-- depends_on: {{ ref('int_subject_scope') }}
-- Bridge: every golden record to its subject (dim_subject), with how the subject was identified and whether
-- the record counts in the subject's credit profile (a stale utility bill does not).
-- Incremental: the facts whose subject the build may change (int_subject_scope) and the utility bills whose
-- staleness changed (fct_utility_bill_owner is built whole: a later bill makes an earlier one stale) are
-- deleted and linked again.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['item_code', 'natural_key_hash'], 'unique': True}, {'columns': ['subject_key']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where (item_code, natural_key_hash) in
                    (select item_code, natural_key_hash from {{ ref('int_subject_scope') }}
                     where previous_subject_key is not null
                     union all
                     select 'utility_payment', natural_key_hash from {{ ref('fct_utility_bill_owner') }} u
                     where exists (select 1 from {{ this }} t where t.item_code = 'utility_payment'
                                   and t.natural_key_hash = u.natural_key_hash
                                   and t.is_attributed = u.is_stale)){% endif %}") }}
{% if is_incremental() %}
-- (the pre-hook removed these facts' rows: what is not in the table any more is what to link)
with scope as (
    select item_code, natural_key_hash from {{ ref('int_subject_scope') }}
    union
    select 'utility_payment', u.natural_key_hash from {{ ref('fct_utility_bill_owner') }} u
    where not exists (select 1 from {{ this }} t where t.item_code = 'utility_payment'
                      and t.natural_key_hash = u.natural_key_hash)
)
{% endif %}
select
    s.item_code,
    s.natural_key_hash,
    s.subject_key,
    s.link_method,
    i.category,
    coalesce(not u.is_stale, true) as is_attributed,
    s.active_until,
    s.received_at as winning_received_at
from {{ ref('int_golden_subjects') }} s
join {{ ref('dim_catalog_item') }} i on i.item_code = s.item_code
left join {{ ref('fct_utility_bill_owner') }} u
  on s.item_code = 'utility_payment' and u.natural_key_hash = s.natural_key_hash
{% if is_incremental() %}
where (s.item_code, s.natural_key_hash) in (select item_code, natural_key_hash from scope)
{% else %}
-- a subject's records on the same pages: the credit profile re-reads every record of the subjects it touches
order by s.subject_key
{% endif %}
