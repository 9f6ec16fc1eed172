{# Pre-hook of the models whose full build joins the winning copies of the whole history to their rows by
   (batch, row): fct_<item> and int_golden_subjects. PostgreSQL estimates a merge join over two sorts of the
   history cheaper than a hash join; measured on 10M rows (bench warehouse, fct_administrative_penalty) the
   merge join took 105–188 s, the hash join 38–40 s. `set local`: this model's transaction only. #}
{% macro credit_prefer_hash_join() -%}
    set local enable_mergejoin = off
{%- endmacro %}
