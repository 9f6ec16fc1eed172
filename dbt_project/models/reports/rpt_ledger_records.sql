-- Every accepted record of every catalog item (one landing table each), with its period and whether it repeats
-- the natural key of a record accepted earlier (多头/重复报送), from any unit or channel. A new state of a case
-- (案件状态) under the same key is a new fact, not a repeat.
with records as (
{%- for t in catalog_item_tables() %}
    select '{{ t.table }}'::text as item_code, batch_id, row_no, unit_code, channel, received_at, natural_key_hash,
           on_time, {{ t.state ~ '::text' if t.state else 'null::text' }} as state
    from {{ source('landing', t.table) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
),
ordered as (
    select r.*,
           row_number() over w as copy_no,
           first_value(unit_code) over w as first_unit_code
    from records as r
    window w as (partition by item_code, natural_key_hash, state order by received_at, batch_id, row_no)
)
select item_code, batch_id, row_no, unit_code, channel, received_at,
       to_char(received_at at time zone 'Asia/Shanghai', 'YYYY-MM') as period,
       natural_key_hash, on_time,
       copy_no > 1 as is_repeat,
       copy_no > 1 and first_unit_code <> unit_code as is_repeat_of_other_unit
from ordered
