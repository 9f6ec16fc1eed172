-- The compared fields of each unit's current copy of a fact whose copies differ, one row per copy and field
-- (values as text; personal ID fields by their keyed hash).
{% set cols = catalog_conflict_columns() %}
with conflicted as (
    select s.item_code, s.natural_key_hash, s.batch_id, s.row_no, s.unit_code, s.received_at, s.is_winner
    from {{ ref('int_record_survivorship') }} s
    join {{ ref('int_golden_keys') }} k
      on k.item_code = s.item_code and k.natural_key_hash = s.natural_key_hash and k.has_conflicts
    where s.is_current_in_unit
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
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from field_values
