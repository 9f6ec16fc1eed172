{# One golden record per natural key of an item: the winning copy's values (chosen in int_record_survivorship)
   with the counts of every copy. Called by the generated fct_<item> models with the item's value columns.
   Incremental: only the facts the build touched (int_touched_keys). A fact whose winning copy did not change
   keeps the values of its current golden record (this table); the values of a new winner are read from
   staging from the earliest new winner's received time on — the day's batches, which the landing tables'
   BRIN index on received_at finds without reading the history (landing has no index on batch and row). #}
{% macro golden_record(item_code, value_columns) %}
{% set counts %}
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
{% endset %}
{% if is_incremental() %}
with touched as (
    select natural_key_hash, is_new from {{ ref('int_touched_keys') }} where item_code = '{{ item_code }}'
),

keys as (
    select k.*, t.is_new
    from {{ ref('int_golden_keys') }} k
    join touched t on t.natural_key_hash = k.natural_key_hash
    where k.item_code = '{{ item_code }}'
),

-- a new fact has no golden record yet: only the others are looked up in this table
kept as (
    select k.*, t.natural_key_hash as kept_key
    from keys k
    left join {{ this }} t
      on t.natural_key_hash = k.natural_key_hash
     and t.winning_batch_id = k.winning_batch_id and t.winning_row_no = k.winning_row_no
    where not k.is_new
    union all
    select k.*, null
    from keys k
    where k.is_new
)

select
    k.natural_key_hash,
    {% for c in value_columns -%}
    t.{{ c }},
    {% endfor -%}
    {{ counts }}
from kept k
join {{ this }} t on t.natural_key_hash = k.kept_key
union all
select
    k.natural_key_hash,
    {% for c in value_columns -%}
    s.{{ c }},
    {% endfor -%}
    {{ counts }}
from kept k
join {{ ref('stg_landing__' ~ item_code) }} s
  on s.batch_id = k.winning_batch_id and s.row_no = k.winning_row_no
where k.kept_key is null
  and s.received_at >= (select coalesce(min(winning_received_at), 'infinity') from kept where kept_key is null)
{% else %}
select
    k.natural_key_hash,
    {% for c in value_columns -%}
    s.{{ c }},
    {% endfor -%}
    {{ counts }}
from {{ ref('int_golden_keys') }} k
join {{ ref('stg_landing__' ~ item_code) }} s
  on s.batch_id = k.winning_batch_id and s.row_no = k.winning_row_no
where k.item_code = '{{ item_code }}'
{% endif %}
{% endmacro %}

{# The incremental strategy of fct_<item> (`incremental_strategy='credit_golden'`): the model's rows (built first,
   while this table still holds the golden records it keeps) replace those of the facts an earlier build has;
   dbt's delete+insert would probe the table's key index once per touched fact, most of them new. #}
{% macro get_incremental_credit_golden_sql(arg_dict) %}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set cols = get_quoted_csv(arg_dict["dest_columns"] | map(attribute="name")) -%}
    delete from {{ target }}
    where natural_key_hash in (select e.natural_key_hash from {{ credit_existing_touched_keys() }} e
                               where e.item_code = '{{ target.identifier[4:] }}');
    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ arg_dict["temp_relation"] }}
{% endmacro %}
