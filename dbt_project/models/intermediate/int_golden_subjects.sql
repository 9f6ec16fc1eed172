-- depends_on: {{ ref('int_subject_scope') }}
-- The subject of every golden record (from its winning copy) and how it was identified: natural persons by
-- the keyed hash of their ID number (never the number), legal persons by USCC — a record that carries only a
-- 工商注册号 or 组织机构代码 is linked to the USCC another record pairs it with (or that embeds the
-- organisation code, USCC characters 9–17: int_subject_code_pairs).
-- Incremental: the facts of int_subject_scope (touched, or whose codes a new pair concerns) are deleted (those
-- an earlier build identified: with a previous subject) and identified again.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['item_code', 'natural_key_hash'], 'unique': True}, {'columns': ['subject_key']},
                   {'columns': ['subject_reg_no']}, {'columns': ['subject_org_code_norm']}],
          pre_hook=["{{ credit_prefer_hash_join() }}",
                    "{% if is_incremental() %}delete from {{ this }} where (item_code, natural_key_hash) in
                    (select item_code, natural_key_hash from {{ ref('int_subject_scope') }}
                     where previous_subject_key is not null){% endif %}"]) }}
with winners as (
    {% if is_incremental() %}
    select c.*
    from {{ ref('int_subject_scope') }} f
    join {{ ref('int_golden_keys') }} k on k.item_code = f.item_code and k.natural_key_hash = f.natural_key_hash
    join {{ ref('int_record_copies') }} c
      on c.item_code = k.item_code and c.natural_key_hash = k.natural_key_hash
     and c.batch_id = k.winning_batch_id and c.row_no = k.winning_row_no
    {% else %}
    select c.*
    from {{ ref('int_record_copies') }} c
    -- (batch, row) is the copy; joining on the key as well makes PostgreSQL expect one row and nest loops
    join {{ ref('int_golden_keys') }} k on k.winning_batch_id = c.batch_id and k.winning_row_no = c.row_no
    {% endif %}
),

{% if is_incremental() %}
-- the codes a winner may be linked by (only a record without a USCC of its own is): one index probe each
codes as (
    select 'reg' as kind, subject_reg_no as code from winners
    where subject_uscc is null and subject_reg_no is not null
    union
    select 'org', replace(subject_org_code, '-', '') from winners
    where subject_uscc is null and subject_org_code is not null
),
{% endif %}

pairs as (
    select p.kind, p.code, min(p.uscc) as uscc
    from {{ ref('int_subject_code_pairs') }} p
    {% if is_incremental() %}
    join codes c on c.kind = p.kind and c.code = p.code
    {% endif %}
    group by p.kind, p.code
    having count(distinct p.uscc) = 1
),

reg_pairs as (select code, uscc from pairs where kind = 'reg'),

org_pairs as (select code, uscc from pairs where kind = 'org')

select
    w.item_code,
    w.natural_key_hash,
    case
        when w.subject_person_hash is not null then 'P:' || w.subject_person_hash
        when w.subject_uscc is not null then 'U:' || w.subject_uscc
        when r.uscc is not null then 'U:' || r.uscc
        when o.uscc is not null then 'U:' || o.uscc
        when w.subject_reg_no is not null then 'R:' || w.subject_reg_no
        when w.subject_org_code is not null then 'O:' || replace(w.subject_org_code, '-', '')
        else 'N:' || md5(coalesce(w.subject_name, ''))
    end as subject_key,
    case
        when w.subject_person_hash is not null then 'person_id_hash'
        when w.subject_uscc is not null then 'uscc'
        when r.uscc is not null then 'reg_no_paired_with_uscc'
        when o.uscc is not null then 'org_code_paired_with_uscc'
        when w.subject_reg_no is not null then 'reg_no'
        when w.subject_org_code is not null then 'org_code'
        else 'name_only'
    end as link_method,
    coalesce(w.subject_uscc, r.uscc, o.uscc) as subject_uscc,
    w.subject_person_hash,
    w.subject_person_masked,
    w.subject_name,
    w.subject_category,
    w.region_code,
    w.active_until,
    w.received_at,
    w.subject_reg_no,
    replace(w.subject_org_code, '-', '') as subject_org_code_norm
from winners w
left join reg_pairs r on r.code = w.subject_reg_no
left join org_pairs o on o.code = replace(w.subject_org_code, '-', '')
{% if not is_incremental() %}
-- a subject's records on the same pages: a daily build re-reads every record of the subjects it touches
-- (dim_subject), a few percent of the subjects but, in arrival order, most of the pages
order by subject_key
{% endif %}
