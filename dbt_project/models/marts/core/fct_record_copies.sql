-- depends_on: {{ ref('int_touched_keys') }}
-- Provenance: one row per landed copy of any fact, with its place in the survivorship rule. Incremental: the
-- copies of the facts the build's batches touch are rewritten (deleted by the fact, then inserted).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook="{% if is_incremental() %}delete from {{ this }} where (item_code, natural_key_hash) in
                    {{ credit_existing_touched_keys() }}{% endif %}",
          indexes=[{'columns': ['batch_id']}, {'columns': ['item_code', 'natural_key_hash']}]) }}
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
join {{ ref('int_golden_keys') }} k on k.item_code = s.item_code and k.natural_key_hash = s.natural_key_hash
{% if is_incremental() %}
where (s.item_code, s.natural_key_hash) in (select item_code, natural_key_hash from {{ ref('int_touched_keys') }})
{% endif %}
