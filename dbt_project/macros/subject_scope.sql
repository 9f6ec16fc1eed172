{# The subjects an incremental build may change: the subject keys the facts of int_subject_scope had before the
   build and have after it (dim_subject, mart_credit_profile recompute exactly these). #}
{% macro credit_scope_subjects() %}
    select previous_subject_key as subject_key from {{ ref('int_subject_scope') }}
    where previous_subject_key is not null
    union
    select g.subject_key from {{ ref('int_golden_subjects') }} g
    where (g.item_code, g.natural_key_hash) in (select item_code, natural_key_hash from {{ ref('int_subject_scope') }})
{% endmacro %}
