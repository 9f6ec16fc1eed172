{% test credit_copies_add_up(model, item_code) %}
    {# every landed copy of the item is counted in exactly one golden record: nothing lost, nothing doubled #}
    with golden as (select coalesce(sum(copies), 0) as n from {{ model }}),
         landed as (select count(*) as n from {{ ref('stg_landing__' ~ item_code) }})
    select golden.n as golden_copies, landed.n as landed_copies
    from golden, landed
    where golden.n <> landed.n
{% endtest %}
