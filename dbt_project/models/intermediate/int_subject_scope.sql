-- depends_on: {{ ref('int_new_code_pairs') }}
-- depends_on: {{ ref('int_touched_keys') }}
-- The facts whose subject this build may change, with the subject key they had before it: the facts it touched
-- and every fact whose winning copy carries a 工商注册号 / 组织机构代码 of a new pair (int_new_code_pairs: it can
-- link them, or unlink them when the code now pairs with a second USCC). On a full refresh (or the first build)
-- empty: every model that reads it builds from scratch then. Read before int_golden_subjects is rewritten (it refs this model): it reads that model's table by
-- name, as the previous build left it.
{{ config(materialized='table', indexes=[{'columns': ['item_code', 'natural_key_hash']}]) }}
{% set prev = adapter.get_relation(database=target.database, schema=this.schema, identifier='int_golden_subjects') %}
{% if prev is none or flags.FULL_REFRESH %}

select item_code, natural_key_hash, null::text as previous_subject_key
from {{ ref('int_touched_keys') }}
where false
{% else %}
with codes as (select distinct kind, code from {{ ref('int_new_code_pairs') }}),

facts as (
    select item_code, natural_key_hash, is_new from {{ ref('int_touched_keys') }}
    union
    select g.item_code, g.natural_key_hash, false from {{ prev }} g
    where g.subject_reg_no in (select code from codes where kind = 'reg')
    union
    select g.item_code, g.natural_key_hash, false from {{ prev }} g
    where g.subject_org_code_norm in (select code from codes where kind = 'org')
)

-- a new fact had no subject: only the others are looked up (an index probe into the whole history each)
select f.item_code, f.natural_key_hash, g.subject_key as previous_subject_key
from facts f
left join {{ prev }} g on g.item_code = f.item_code and g.natural_key_hash = f.natural_key_hash
where not f.is_new
union all
select f.item_code, f.natural_key_hash, null
from facts f
where f.is_new
{% endif %}
