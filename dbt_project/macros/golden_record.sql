{# One golden record per natural key of an item: the winning copy's values (chosen in int_record_survivorship)
   with the counts of every copy. Called by the generated fct_<item> models with the item's value columns. #}
{% macro golden_record(item_code, value_columns) %}
select
    k.natural_key_hash,
    {% for c in value_columns -%}
    s.{{ c }},
    {% endfor -%}
    k.copies,
    k.reporting_units,
    k.winning_batch_id,
    k.winning_row_no,
    k.winning_unit_code,
    k.winning_channel,
    k.winning_received_at,
    k.first_received_at,
    k.last_received_at,
    k.has_conflicts
from {{ ref('int_golden_keys') }} k
join {{ ref('stg_landing__' ~ item_code) }} s
  on s.batch_id = k.winning_batch_id and s.row_no = k.winning_row_no
where k.item_code = '{{ item_code }}'
{% if is_incremental() %}
  and k.natural_key_hash in (select natural_key_hash from {{ ref('int_touched_keys') }}
                             where item_code = '{{ item_code }}')
{% endif %}
{% endmacro %}
