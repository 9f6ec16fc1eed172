{# on-run-start (dbt_project.yml): a dbt invocation other than the warehouse build (which sets the var
   credit_scoped_tests, warehouse/dbt_build.py) that runs an incremental model forgets the warehouse's build
   state, so the next warehouse build is a full refresh. Run by hand, an incremental model reads the scope the
   last build left (int_build_batches, int_touched_keys): the delta-maintained ones (int_burden_counts) would
   add the same delta twice, the provenance would mark batches built that the later models do not hold. #}
{% macro credit_forget_build_state() -%}
    {%- if execute and not var('credit_scoped_tests', false) -%}
        {%- set ns = namespace(incremental=false) -%}
        {%- for uid in selected_resources -%}
            {%- set node = graph.nodes.get(uid) -%}
            {%- if node and node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
                {%- set ns.incremental = true -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if ns.incremental -%}
            do $$ begin
                if to_regclass('intermediate.warehouse_build_state') is not null then
                    delete from intermediate.warehouse_build_state;
                end if;
            end $$
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
