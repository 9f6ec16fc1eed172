{# Pre-hook of the models whose full build joins the winning copies of the whole history to their rows by
   (batch, row): fct_<item> and int_golden_subjects. PostgreSQL estimates a merge join over two sorts of the
   history cheaper than a hash join; measured on 10M rows (bench warehouse, fct_administrative_penalty) the
   merge join took 105–188 s, the hash join 38–40 s. `set local`: this model's transaction only. #}
{% macro credit_prefer_hash_join() -%}
    set local enable_mergejoin = off
{%- endmacro %}

{# Pre-hook of the models that filter a table of the whole history by a day's keys (`credit_in_keys`) and then
   join what they found: PostgreSQL cannot see how many keys the array holds, expects ten rows and would nest
   loops over the day's 100k (a build stalled on such a loop in fct_subject_records). `set local`: this model's
   transaction only. #}
{% macro credit_no_nested_loops() -%}
    set local enable_nestloop = off
{%- endmacro %}
