{# Generic tests used by the generated landing sources. #}

{% test credit_is_masked(model, column_name) %}
    {# a masked ID keeps region prefix and last four only: a clear 18-character ID number fails #}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} ~ '^[0-9]{17}[0-9Xx]$'
{% endtest %}

{% test credit_valid_uscc(model, column_name) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} !~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'
{% endtest %}

{% test credit_code_value(model, column_name, values, other_prefix) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} not in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
      and not ({{ column_name }} like '{{ other_prefix }}%' and length({{ column_name }}) > {{ other_prefix | length }})
{% endtest %}
