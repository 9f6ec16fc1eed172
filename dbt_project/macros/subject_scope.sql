{# The subjects an incremental build may change (int_scope_subjects). #}
{% macro credit_scope_subjects() %}
    select subject_key from {{ ref('int_scope_subjects') }}
{% endmacro %}
