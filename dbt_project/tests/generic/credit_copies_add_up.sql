{% test credit_copies_add_up(model, item_code) %}
    {# every landed copy of the item is counted in exactly one golden record: nothing lost, nothing doubled.
       On an incremental build (the model holds the facts the build touched, macros/build_scope.sql) two checks
       cover what the build wrote: the golden records of the touched facts count every copy of those facts in
       int_record_copies, and int_record_copies holds as many copies of the build's batches as the ledger
       accepted from them (landing.batches, written with the landing rows in one transaction). The full check,
       staging against golden records, runs on a full refresh. #}
    {% set staged = ref('stg_landing__' ~ item_code) %}
    {% set copies = ref('int_record_copies') %}
    {% set build_batches = ref('int_build_batches') %}
    {% if credit_tests_scoped() %}
    with golden as (select coalesce(sum(copies), 0) as n from {{ model }}),
         landed as (select count(*) as n from {{ copies }} c
                    where c.item_code = '{{ item_code }}'
                      and c.natural_key_hash in (select natural_key_hash from intermediate.int_touched_keys
                                                 where item_code = '{{ item_code }}')),
         accepted_new as (select coalesce(sum(b.accepted), 0) as n from landing.batches b
                          where b.item_code = '{{ item_code }}'
                            and b.batch_id in (select batch_id from {{ build_batches }})),
         copied_new as (select count(*) as n from {{ copies }} c
                        where c.item_code = '{{ item_code }}'
                          and c.batch_id {{ credit_in_keys('select batch_id from ' ~ build_batches) }})
    select golden.n as golden_copies, landed.n as landed_copies,
           accepted_new.n as accepted_build_rows, copied_new.n as copied_build_rows
    from golden, landed, accepted_new, copied_new
    where golden.n <> landed.n or accepted_new.n <> copied_new.n
    {% else %}
    with golden as (select coalesce(sum(copies), 0) as n from {{ model }}),
         landed as (select count(*) as n from {{ staged }})
    select golden.n as golden_copies, landed.n as landed_copies
    from golden, landed
    where golden.n <> landed.n
    {% endif %}
{% endtest %}
