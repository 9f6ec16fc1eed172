-- depends_on: {{ ref('int_touched_keys') }}
-- One row per fact (item × natural key): its winning copy and the counts over every copy. Incremental: the
-- facts the build's batches touch are recomputed.
-- (the pre-hook deletes the facts an earlier build has; dbt's delete+insert would probe every touched key)
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook="{% if is_incremental() %}delete from {{ this }} where (item_code, natural_key_hash) in
                    {{ credit_existing_touched_keys() }}{% endif %}",
          indexes=[{'columns': ['item_code', 'natural_key_hash'], 'unique': True}]) }}
with s as (
    select * from {{ ref('int_record_survivorship') }}
    {% if is_incremental() %}
    where {{ credit_fact_in(ref('int_touched_keys')) }}
    {% endif %}
)
select
    item_code,
    natural_key_hash,
    count(*)::integer as copies,
    count(distinct unit_code)::integer as reporting_units,
    max(batch_id) filter (where is_winner) as winning_batch_id,
    max(row_no) filter (where is_winner) as winning_row_no,
    max(unit_code) filter (where is_winner) as winning_unit_code,
    max(channel) filter (where is_winner) as winning_channel,
    max(received_at) filter (where is_winner) as winning_received_at,
    max(survivorship_reason) filter (where is_winner) as survivorship_reason,
    min(received_at) as first_received_at,
    max(received_at) as last_received_at,
    -- (and the winner: a case's winning state may be a unit's earlier copy, its later copy then conflicts)
    count(distinct compared_hash) filter (where is_current_in_unit or is_winner) > 1 as has_conflicts
from s
group by item_code, natural_key_hash
