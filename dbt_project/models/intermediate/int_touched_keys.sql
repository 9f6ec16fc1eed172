-- The facts (item × natural key) this build's batches touch: only their golden records, provenance and
-- survivorship are recomputed by an incremental build. Empty on a full refresh, which builds every model whole
-- and reads none of them (it would be a copy of every key).
{{ config(materialized='table', indexes=[{'columns': ['item_code', 'natural_key_hash']}]) }}
select distinct c.item_code, c.natural_key_hash
from {{ ref('int_record_copies') }} c
where c.batch_id in (select batch_id from {{ ref('int_build_batches') }})
{% if flags.FULL_REFRESH %}
  and false
{% endif %}
