{% test credit_copies_add_up(model, item_code) %}
    {# every landed copy of the item is counted in exactly one golden record: nothing lost, nothing doubled.
       On an incremental build (the model holds the facts the build touched, macros/build_scope.sql) the copies
       of those facts in int_record_copies (the staged rows of every batch; the full check runs on a full
       refresh). #}
    {% set staged = ref('stg_landing__' ~ item_code) %}
    {% set copies = ref('int_record_copies') %}
    with golden as (select coalesce(sum(copies), 0) as n from {{ model }}),
    {% if credit_tests_scoped() %}
         landed as (select count(*) as n from {{ copies }} c
                    where c.item_code = '{{ item_code }}'
                      and c.natural_key_hash in (select natural_key_hash from intermediate.int_touched_keys
                                                 where item_code = '{{ item_code }}'))
    {% else %}
         landed as (select count(*) as n from {{ staged }})
    {% endif %}
    select golden.n as golden_copies, landed.n as landed_copies
    from golden, landed
    where golden.n <> landed.n
{% endtest %}
