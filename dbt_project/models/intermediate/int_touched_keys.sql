-- The facts (item × natural key) this build's batches touch: only their golden records, provenance and
-- survivorship are recomputed by an incremental build. Empty on a full refresh, which builds every model whole
-- and reads none of them (it would be a copy of every key).
-- is_new: no earlier build has the fact (int_golden_keys as the previous build left it, read by name: it is
-- rebuilt downstream). Most of a day's facts are new; the fact-keyed tables hold no rows of those, so their
-- deletes and look-ups take only the others (credit_existing_touched_keys) — a probe into an index of the whole
-- history per key is the cost that grows with the history.
{{ config(materialized='table', indexes=[{'columns': ['item_code', 'natural_key_hash']}]) }}
{% set prev = adapter.get_relation(database=target.database, schema=this.schema, identifier='int_golden_keys') %}
select
    t.item_code,
    t.natural_key_hash,
    {% if prev is none or flags.FULL_REFRESH %}true{% else %}not exists (
        select 1 from {{ prev }} g where g.item_code = t.item_code and g.natural_key_hash = t.natural_key_hash
    ){% endif %} as is_new
from (
    select distinct c.item_code, c.natural_key_hash
    from {{ ref('int_record_copies') }} c
    where c.batch_id in (select batch_id from {{ ref('int_build_batches') }})
    {% if flags.FULL_REFRESH %}
      and false
    {% endif %}
) t
