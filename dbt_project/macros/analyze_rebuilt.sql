{# Post-hook of intermediate and marts (dbt_project.yml): a rebuilt table gets planner statistics (without
   them PostgreSQL picks nested loops over whole tables). An incremental run adds a day to a table that has
   them, and autovacuum analyzes it as it grows: analyzing 10M rows again each day would cost what the
   history costs. A view has no statistics of its own (analyze would warn). (Not is_incremental(): dbt's unit tests would then need it overridden on every model.) #}
{% macro credit_analyze_if_rebuilt() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if materialized == 'table' or (materialized == 'incremental' and flags.FULL_REFRESH) -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
