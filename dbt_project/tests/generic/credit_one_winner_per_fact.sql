{% test credit_one_winner_per_fact(model) %}
    select item_code, natural_key_hash, count(*) filter (where is_winner) as winners
    from {{ model }}
    group by 1, 2
    having count(*) filter (where is_winner) <> 1
{% endtest %}
