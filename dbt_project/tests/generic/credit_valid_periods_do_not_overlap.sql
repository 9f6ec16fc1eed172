{% test credit_valid_periods_do_not_overlap(model, key, valid_from, valid_to) %}
    select a.{{ key }}
    from {{ model }} a
    join {{ model }} b
      on b.{{ key }} = a.{{ key }} and b.{{ valid_from }} > a.{{ valid_from }}
     and b.{{ valid_from }} < coalesce(a.{{ valid_to }}, 'infinity'::timestamptz)
{% endtest %}
