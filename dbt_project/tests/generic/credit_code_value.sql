{# A code-list value, or free text after the list's "other" prefix (e.g. 其他-…) with something after it. #}
{% test credit_code_value(model, column_name, values, other_prefix) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} not in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
      and not ({{ column_name }} like '{{ other_prefix }}%' and length({{ column_name }}) > {{ other_prefix | length }})
{% endtest %}
