-- depends_on: {{ ref('int_subject_scope') }}
-- depends_on: {{ ref('int_scope_subjects') }}
-- One row per credit subject: legal persons by USCC (or, until linked, their registration / organisation
-- code), natural persons by the keyed hash of their ID number (masked for display, never in clear), with the
-- names they were reported under and the region from the code.
-- Incremental: the subjects of the facts whose subject the build may change (their keys before and after it,
-- int_scope_subjects) are deleted and aggregated again over all their records; a subject whose records
-- all moved to another key (a registration number now linked to its USCC) is gone, as a full build has it.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['subject_key']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where subject_key
                    {{ credit_in_keys(credit_scope_subjects()) }}{% endif %}") }}
with s as (
    select * from {{ ref('int_golden_subjects') }}
    {% if is_incremental() %}
    where subject_key {{ credit_in_keys(credit_scope_subjects()) }}
    {% endif %}
)

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
