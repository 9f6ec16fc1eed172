-- The subject of every golden record (from its winning copy) and how it was identified: natural persons by
-- the keyed hash of their ID number (never the number), legal persons by USCC — a record that carries only a
-- 工商注册号 or 组织机构代码 is linked to the USCC another record pairs it with (or that embeds the
-- organisation code, USCC characters 9–17).
with copies as (select * from {{ ref('int_record_copies') }}),

winners as (
    select c.*
    from copies c
    -- (batch, row) is the copy; joining on the key as well makes PostgreSQL expect one row and nest loops
    join {{ ref('int_golden_keys') }} k on k.winning_batch_id = c.batch_id and k.winning_row_no = c.row_no
),

reg_pairs as (
    select subject_reg_no as code, min(subject_uscc) as uscc
    from copies
    where subject_reg_no is not null and subject_uscc is not null
    group by 1
    having count(distinct subject_uscc) = 1
),

org_pairs as (
    select code, min(uscc) as uscc
    from (
        select replace(subject_org_code, '-', '') as code, subject_uscc as uscc
        from copies where subject_org_code is not null and subject_uscc is not null
        union all
        select substr(subject_uscc, 9, 9), subject_uscc from copies where subject_uscc is not null
    ) p
    group by 1
    having count(distinct uscc) = 1
)

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
    w.received_at
from winners w
left join reg_pairs r on r.code = w.subject_reg_no
left join org_pairs o on o.code = replace(w.subject_org_code, '-', '')
