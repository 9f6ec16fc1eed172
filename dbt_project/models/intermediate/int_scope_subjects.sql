-- depends_on: {{ ref('int_subject_scope') }}
-- The subjects an incremental build may change: the subject keys the facts of int_subject_scope had before the
-- build and have after it. dim_subject, int_profile_scope and their tests read them; kept as a table so that
-- the look-up of each fact's subject (an index probe into the whole history) is made once per build.
-- Empty on a full refresh, which rebuilds every subject.
{{ config(materialized='table', indexes=[{'columns': ['subject_key']}]) }}
select previous_subject_key as subject_key from {{ ref('int_subject_scope') }}
where previous_subject_key is not null
union
select g.subject_key from {{ ref('int_golden_subjects') }} g
where {{ credit_fact_in(ref('int_subject_scope'), 'g') }}
{% if flags.FULL_REFRESH %}
  and false
{% endif %}
