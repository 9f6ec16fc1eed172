{# Post-hook of intermediate and marts (dbt_project.yml): a rebuilt table gets planner statistics (without
   them PostgreSQL picks nested loops over whole tables). An incremental run adds a day to a table that has
   them, and autovacuum analyzes it as it grows: analyzing 10M rows again each day would cost what the
   history costs. (Not is_incremental(): dbt's unit tests would then need it overridden on every model.) #}
{% macro credit_analyze_if_rebuilt() -%}
    {%- if config.get('materialized') != 'incremental' or flags.FULL_REFRESH -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
