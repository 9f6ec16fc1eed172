-- Provenance: one row per landed copy of any fact, with its place in the survivorship rule and the counts of its
-- fact. A view over int_record_survivorship and int_golden_keys: both are kept incremental and indexed on the
-- fact, so a copy's provenance is two index probes; as a table it was a third copy of the history that every
-- build rewrote (the fact's copies on each touch) and indexed twice. (left join: a copy without its golden key
-- would show with null counts, which the not_null tests catch.)
{{ config(materialized='view') }}
select
    s.item_code,
    s.natural_key_hash,
    s.batch_id,
    s.row_no,
    s.unit_code,
    s.channel,
    s.received_at,
    s.on_time,
    s.record_hash,
    s.version_desc::integer as version_desc,
    s.unit_versions::integer as unit_versions,
    s.is_current_in_unit,
    s.is_winner,
    s.survivorship_reason,
    k.copies,
    k.reporting_units,
    k.first_received_at as key_first_received_at,
    k.last_received_at as key_last_received_at
from {{ ref('int_record_survivorship') }} s
left join {{ ref('int_golden_keys') }} k on k.item_code = s.item_code and k.natural_key_hash = s.natural_key_hash
