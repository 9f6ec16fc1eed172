{# Two parties (a name and a USCC each) differ by their USCCs when both carry one — a company that renamed is
   still itself — else by name; an unknown party differs from nobody (false, never null). #}
{% macro different_party(name_a, uscc_a, name_b, uscc_b) -%}
    coalesce(case when {{ uscc_a }} is not null and {{ uscc_b }} is not null then {{ uscc_a }} <> {{ uscc_b }}
                  else {{ name_a }} <> {{ name_b }} end, false)
{%- endmacro %}
