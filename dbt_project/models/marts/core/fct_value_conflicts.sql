-- Copies of one fact whose compared values differ, field by field: each unit's current version against the
-- golden record's value. Nothing is resolved silently: the golden record keeps the winner's value and every
-- other value stays listed here.
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
