-- One row per credit subject: legal persons by USCC (or, until linked, their registration / organisation
-- code), natural persons by the keyed hash of their ID number (masked for display, never in clear), with the
-- names they were reported under and the region from the code.
with s as (select * from {{ ref('int_golden_subjects') }})

select
    subject_key,
    case left(subject_key, 1)
        when 'P' then 'natural_person'
        when 'U' then 'legal_person'
        when 'N' then 'unidentified'
        else 'legal_person_without_uscc'
    end as subject_kind,
    max(subject_uscc) as uscc,
    max(subject_person_hash) as person_id_hash,
    max(subject_person_masked) as person_id_masked,
    mode() within group (order by subject_name) as name,
    array_agg(distinct subject_name order by subject_name) as name_variants,
    case left(subject_key, 1)
        when 'U' then substr(max(subject_uscc), 3, 6)
        when 'P' then left(max(subject_person_masked), 4) || '00'
        else max(region_code)
    end as region_code,
    count(*)::integer as records,
    min(received_at) as first_received_at,
    max(received_at) as last_received_at
from s
group by subject_key
