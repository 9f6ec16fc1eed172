{# A masked ID keeps the region prefix and the last four characters only: a clear 18-character ID number fails. #}
{% test credit_is_masked(model, column_name) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} ~ '^[0-9]{17}[0-9Xx]$'
{% endtest %}
