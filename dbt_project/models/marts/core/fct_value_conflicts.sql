-- Copies of one fact whose compared values differ, field by field: each unit's current version against the
-- golden record's value. Nothing is resolved silently: the golden record keeps the winner's value and every
-- other value stays listed here.
-- Incremental: the rows of the facts the build touched are deleted and built again.
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['item_code', 'natural_key_hash']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where (item_code, natural_key_hash) in
                    {{ credit_existing_touched_keys() }}{% endif %}") }}
with field_values as (
    select * from {{ ref('int_conflict_values') }}
    {% if is_incremental() %}
    where (item_code, natural_key_hash) in (select item_code, natural_key_hash from {{ ref('int_touched_keys') }})
    {% endif %}
)

select
    o.item_code,
    o.natural_key_hash,
    o.field_code,
    w.field_value as winning_value,
    w.unit_code as winning_unit_code,
    w.batch_id as winning_batch_id,
    o.field_value as other_value,
    o.unit_code as other_unit_code,
    o.batch_id as other_batch_id,
    o.row_no as other_row_no,
    o.received_at as other_received_at
from field_values o
join field_values w
  on w.item_code = o.item_code and w.natural_key_hash = o.natural_key_hash and w.field_code = o.field_code
 and w.is_winner
where not o.is_winner
  and o.field_value is distinct from w.field_value
