{% test credit_same_rows_as(model, source_table) %}
    {# a staging model has exactly the landed rows: none added, none lost #}
    select m.n as model_rows, l.n as landing_rows
    from (select count(*) as n from {{ model }}) m, (select count(*) as n from {{ source('landing', source_table) }}) l
    where m.n <> l.n
{% endtest %}
