{# The rows a data test checks. Every data test of the project has `where: __build_scope__` (dbt_project.yml);
   dbt wraps a test's model in get_where_subquery, which replaces the placeholder:
   - on a full refresh, before the warehouse's first build, and in every dbt invocation but the warehouse
     build (which sets the var credit_scoped_tests, warehouse/dbt_build.py): `true` — every test checks all
     rows;
   - on an incremental build, for the models that grow by batches or by facts: only what this build wrote —
     the landing tables and staging views: the batches the warehouse does not hold yet (the build's batches);
     int_record_copies: the build's batches (int_build_batches); the models keyed on facts (survivorship,
     golden keys, provenance, conflicts, fct_<item>): the facts the build touched (int_touched_keys), every
     copy of each; subjects of facts: int_subject_scope; credit profiles: int_profile_scope. So a day's tests cost in proportion to the day's increment; the rows an earlier build wrote were
     tested by that build and an incremental build does not change them.
   - every other model (dimensions, small aggregates): `true`.
   The scopes are written as sorted-key index scans (credit_in_keys, credit_fact_in): as `in (subquery)`
   PostgreSQL hashed the day's keys and scanned the whole table for several tests. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__build_scope__', credit_build_scope(relation)) -%}
        {%- if where | trim == 'true' -%}{{ return(relation) }}{%- endif -%}
        {%- set filtered -%}(select * from {{ relation }} where {{ where }}) dbt_subquery{%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{# Models keyed on facts (item × natural key): the table of the facts whose rows an incremental build rewrote. #}
{% macro credit_fact_keyed_models() %}
    {{ return({'int_record_survivorship': 'int_touched_keys', 'int_golden_keys': 'int_touched_keys',
               'fct_record_copies': 'int_touched_keys', 'int_conflict_values': 'int_touched_keys',
               'fct_value_conflicts': 'int_touched_keys', 'int_golden_subjects': 'int_subject_scope',
               'fct_subject_records': 'int_subject_scope'}) }}
{% endmacro %}

{% macro credit_build_scope(relation) -%}
    {%- set name = relation.identifier | default('', true) | lower -%}
    {%- set schema = relation.schema | default('', true) | lower -%}
    {%- set done = adapter.get_relation(database=target.database, schema='intermediate', identifier='int_record_copies') -%}
    {%- if flags.FULL_REFRESH or done is none or not var('credit_scoped_tests', false) -%}
        {{- return('true') -}}
    {%- endif -%}
    {#- landing.batches by name: a test may not reference a source it was not parsed with -#}
    {%- set items = catalog_items() -%}
    {%- set new_batches -%}
        (select b.batch_id from landing.batches b
         where b.accepted > 0 and not exists (select 1 from {{ done }} c where c.batch_id = b.batch_id))
    {%- endset -%}
    {%- set new_since -%}
        (select coalesce(min(b.received_at), 'infinity') from landing.batches b
         where b.accepted > 0 and not exists (select 1 from {{ done }} c where c.batch_id = b.batch_id))
    {%- endset -%}
    {%- if (schema == 'landing' and name in items) or name.startswith('stg_landing__') -%}
        {#- the BRIN index on received_at keeps the scan to the build's pages -#}
        {{- return('batch_id in ' ~ new_batches ~ ' and received_at >= ' ~ new_since) -}}
    {%- elif name == 'int_record_copies' -%}
        {{- return('batch_id ' ~ credit_in_keys('select batch_id from intermediate.int_build_batches')) -}}
    {%- elif name in credit_fact_keyed_models() -%}
        {{- return(credit_fact_in('intermediate.' ~ credit_fact_keyed_models()[name])) -}}
    {%- elif name == 'int_subject_code_pairs' -%}
        {{- return('code ' ~ credit_in_keys('select code from intermediate.int_new_code_pairs')
                   ~ ' and (kind, code, uscc) in (select kind, code, uscc from intermediate.int_new_code_pairs)') -}}
    {%- elif name == 'dim_subject' -%}
        {{- return('subject_key ' ~ credit_in_keys('select subject_key from intermediate.int_scope_subjects')) -}}
    {%- elif name == 'mart_credit_profile' -%}
        {{- return('subject_key ' ~ credit_in_keys('select subject_key from intermediate.int_profile_scope')) -}}
    {%- elif name.startswith('fct_') and name[4:] in items -%}
        {{- return('natural_key_hash ' ~ credit_in_keys('select natural_key_hash from intermediate.int_touched_keys'
                   ~ " where item_code = '" ~ name[4:] ~ "'")) -}}
    {%- else -%}
        {{- return('true') -}}
    {%- endif -%}
{%- endmacro %}

{# True when the tests of this invocation check only the build's rows (see get_where_subquery). #}
{% macro credit_tests_scoped() -%}
    {%- set done = adapter.get_relation(database=target.database, schema='intermediate', identifier='int_record_copies') -%}
    {{- return(not flags.FULL_REFRESH and done is not none and var('credit_scoped_tests', false)) -}}
{%- endmacro %}
