-- The ledger's batches this build brings into the warehouse: every batch with accepted records that
-- int_record_copies (the first incremental model of the chain) does not hold yet, or all of them on a full
-- refresh. A build that fails half way leaves the later models short of its batches: build_warehouse makes the
-- next build a full refresh (warehouse/dbt_build.py).
{{ config(materialized='table') }}
{% set done = adapter.get_relation(database=target.database, schema='intermediate', identifier='int_record_copies') %}
select b.batch_id, b.received_at
from {{ source('landing', 'batches') }} b
where b.accepted > 0
{% if done is not none and not flags.FULL_REFRESH %}
  and not exists (select 1 from {{ done }} c where c.batch_id = b.batch_id)
{% endif %}
