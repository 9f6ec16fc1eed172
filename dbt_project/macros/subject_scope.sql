{# The subjects an incremental build may change (int_scope_subjects). #}
{% macro credit_scope_subjects() %}
    select subject_key from {{ ref('int_scope_subjects') }}
{% endmacro %}

{# `<column> {{ credit_in_keys(subquery) }}`: a membership test of a day's keys (say 100k) against a table of the
   whole history, made as an index scan over the sorted keys (`= any(array(…))`). PostgreSQL plans
   `in (subquery)` with that many keys as a hash semi join over a scan of the whole table: a cost that grows with
   the history, which a daily build must not have. #}
{% macro credit_in_keys(subquery) -%}
    = any(array({{ subquery }}))
{%- endmacro %}
