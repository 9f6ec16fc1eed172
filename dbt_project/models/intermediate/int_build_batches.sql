-- The ledger's batches this build brings into the warehouse: every batch with accepted records that the
-- provenance mart (the last incremental model of the chain) does not hold yet — so a build that failed half
-- way redoes its batches next time — or all of them on a full refresh.
{{ config(materialized='table') }}
{% set done = adapter.get_relation(database=target.database, schema='marts', identifier='fct_record_copies') %}
select b.batch_id, b.received_at
from {{ source('landing', 'batches') }} b
where b.accepted > 0
{% if done is not none and not flags.FULL_REFRESH %}
  and not exists (select 1 from {{ done }} c where c.batch_id = b.batch_id)
{% endif %}
