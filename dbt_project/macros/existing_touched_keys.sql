{# The facts this build touched that an earlier build wrote (int_touched_keys.is_new is false): the only facts
   whose rows an incremental build deletes from the fact-keyed tables. #}
{% macro credit_existing_touched_keys() -%}
    (select item_code, natural_key_hash from {{ ref('int_touched_keys') }} where not is_new)
{%- endmacro %}

{# `{{ credit_fact_in('intermediate.int_touched_keys') }}`: the rows of the facts (item × natural key) of a
   scope table, found by an index scan over its sorted keys (credit_in_keys; PostgreSQL 18 skips over the few
   item codes of an (item_code, natural_key_hash) index), then checked against the scope's item too. #}
{% macro credit_fact_in(scope, alias='') -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ p }}natural_key_hash {{ credit_in_keys('select natural_key_hash from ' ~ scope) }}
    and ({{ p }}item_code, {{ p }}natural_key_hash) in (select item_code, natural_key_hash from {{ scope }})
{%- endmacro %}

{# `where {{ credit_existing_fact_in('c') }}`: the rows of the facts an earlier build has, as a bitmap over the
   sorted keys. With `credit_prefetch_reads` (index scans off) PostgreSQL reads their pages — one random page per
   fact, scattered over a table of the whole history — in a bitmap heap scan, which keeps
   `effective_io_concurrency` reads in flight; an index scan (a nested loop per key) waits for each read. #}
{% macro credit_existing_fact_in(alias='') -%}
    {{ credit_fact_in('(select item_code, natural_key_hash from ' ~ ref('int_touched_keys') ~ ' where not is_new) e',
                      alias) }}
{%- endmacro %}
