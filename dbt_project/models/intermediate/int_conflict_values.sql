-- depends_on: {{ ref('int_touched_keys') }}
-- The compared fields of each unit's current copy (and the winner) of a fact whose copies differ, one row per copy
-- and field
-- (values as text; personal ID fields by their keyed hash).
-- Incremental: the rows of the facts the build touched are deleted and those facts compared again (a new copy
-- can make a fact conflicted, or end its conflict). Their copies' values come from staging from the earliest
-- such copy's received time on (the BRIN index on received_at): the day's batches, unless a new copy conflicts
-- with an older one, whose time then bounds the read.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['item_code', 'natural_key_hash']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where (item_code, natural_key_hash) in
                    {{ credit_existing_touched_keys() }}{% endif %}") }}
{% set cols = catalog_conflict_columns() %}
with conflicted as (
    select s.item_code, s.natural_key_hash, s.batch_id, s.row_no, s.unit_code, s.received_at, s.is_winner
    from {{ ref('int_record_survivorship') }} s
    join {{ ref('int_golden_keys') }} k
      on k.item_code = s.item_code and k.natural_key_hash = s.natural_key_hash and k.has_conflicts
    where (s.is_current_in_unit or s.is_winner)  -- (a case's winner may be a unit's earlier copy)
    {% if is_incremental() %}
      and (s.item_code, s.natural_key_hash) in (select item_code, natural_key_hash from {{ ref('int_touched_keys') }})
    {% endif %}
),

field_values as (
    {% for item in catalog_items() %}
    select c.item_code, c.natural_key_hash, c.batch_id, c.row_no, c.unit_code, c.received_at, c.is_winner,
           f.key as field_code, f.value as field_value
    from conflicted c
    join {{ ref('stg_landing__' ~ item) }} r on r.batch_id = c.batch_id and r.row_no = c.row_no
    cross join lateral jsonb_each_text(jsonb_build_object(
        {%- for col in cols[item] %}'{{ col }}', r.{{ col }}{% if not loop.last %}, {% endif %}{% endfor -%}
    )) f
    where c.item_code = '{{ item }}'
    {% if is_incremental() %}
      and r.received_at >= (select coalesce(min(received_at), 'infinity') from conflicted
                            where item_code = '{{ item }}')
    {% endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from field_values
