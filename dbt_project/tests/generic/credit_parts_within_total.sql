{% test credit_parts_within_total(model, part, total) %}
select * from {{ model }} where {{ part }} > {{ total }} or {{ part }} < 0
{% endtest %}
