-- depends_on: {{ ref('int_build_batches') }}
-- The (code, USCC) pairs this build's copies bring that no earlier build had: a 工商注册号 (kind 'reg') or an
-- 组织机构代码 (kind 'org', also USCC characters 9–17) carried with a USCC. Only these can change how a code
-- links to a USCC. On a full refresh, or the first build, every pair. Reads int_subject_code_pairs by name, as
-- the previous build left it (that model appends these rows after this one).
{{ config(materialized='table') }}
{% set prev = adapter.get_relation(database=target.database, schema=this.schema, identifier='int_subject_code_pairs') %}
{% set incremental = prev is not none and not flags.FULL_REFRESH %}
with copies as (
    select subject_reg_no, subject_org_code, subject_uscc
    from {{ ref('int_record_copies') }}
    where subject_uscc is not null
    {% if incremental %}
      and batch_id in (select batch_id from {{ ref('int_build_batches') }})
    {% endif %}
),

pairs as (
    select 'reg'::text as kind, subject_reg_no as code, subject_uscc as uscc from copies
    where subject_reg_no is not null
    union
    select 'org', replace(subject_org_code, '-', ''), subject_uscc from copies where subject_org_code is not null
    union
    select 'org', substr(subject_uscc, 9, 9), subject_uscc from copies
)

select p.kind, p.code, p.uscc
from pairs p
{% if incremental %}
where not exists (select 1 from {{ prev }} o where o.kind = p.kind and o.code = p.code and o.uscc = p.uscc)
{% endif %}
