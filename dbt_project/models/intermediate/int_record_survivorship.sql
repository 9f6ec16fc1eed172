-- depends_on: {{ ref('int_touched_keys') }}
-- depends_on: {{ ref('int_build_batches') }}
-- The survivorship rule (docs/warehouse.md), one row per landed copy:
--   1. within a unit, its latest version of a fact replaces its earlier ones (a correction);
--   2. across units, among those latest versions: the copy of the unit that is the deciding authority itself
--      (unit USCC = the record's authority USCC) wins; for items whose records carry a state (a case status),
--      the most recently received state wins next; else the unit that reported on time, earliest first;
--   3. ties: unit code, then batch and row (deterministic).
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook=["{{ credit_prefetch_reads() }}",
                    "{% if is_incremental() %}delete from {{ this }}
                     where {{ credit_existing_fact_in() }}{% endif %}"],
          indexes=[{'columns': ['item_code', 'natural_key_hash']},
                   {'columns': ['batch_id', 'row_no'], 'unique': True}]) }}
-- Incremental: every copy of a fact the build's batches touch is ranked again (its rows deleted first, by the
-- fact: dbt's delete+insert on the copy's four columns nests loops over 10M rows). The copies are the build's
-- batches and, for the facts an earlier build has, their earlier copies.
with copies as (
    select c.*, u.uscc as unit_uscc
    from {{ ref('int_record_copies') }} c
    left join {{ ref('ref_source_units') }} u on u.unit_code = c.unit_code
    {% if is_incremental() %}
    where c.batch_id in (select batch_id from {{ ref('int_build_batches') }})
    union all
    select c.*, u.uscc as unit_uscc
    from {{ ref('int_record_copies') }} c
    left join {{ ref('ref_source_units') }} u on u.unit_code = c.unit_code
    where {{ credit_existing_fact_in('c') }}
      and c.batch_id not in (select batch_id from {{ ref('int_build_batches') }})
    {% endif %}
),

versions as (
    select
        *,
        row_number() over (partition by item_code, natural_key_hash, unit_code
                           order by received_at desc, batch_id desc, row_no desc) as version_desc,
        count(*) over (partition by item_code, natural_key_hash, unit_code) as unit_versions,
        min(received_at) over (partition by item_code, natural_key_hash, unit_code) as unit_first_received_at,
        bool_or(coalesce(on_time, false)) over (partition by item_code, natural_key_hash, unit_code) as unit_on_time
    from copies
),

ranked as (
    select
        *,
        row_number() over (
            partition by item_code, natural_key_hash
            order by
                version_desc = 1 desc,
                coalesce(unit_uscc = authority_uscc, false) desc,
                case when item_code in ('{{ catalog_stateful_items() | join("', '") }}') then received_at end
                    desc nulls last,
                unit_on_time desc,
                unit_first_received_at,
                unit_code,
                batch_id,
                row_no
        ) as survivor_rank
    from versions
)

select
    item_code, natural_key_hash, batch_id, row_no, unit_code, channel, received_at, on_time,
    record_hash, compared_hash, authority_uscc, unit_uscc,
    version_desc, unit_versions,
    version_desc = 1 as is_current_in_unit,
    survivor_rank = 1 as is_winner,
    case
        when survivor_rank = 1 and coalesce(unit_uscc = authority_uscc, false) then 'deciding_authority'
        when survivor_rank = 1 and item_code in ('{{ catalog_stateful_items() | join("', '") }}') then 'latest_state'
        when survivor_rank = 1 and unit_on_time then 'earliest_on_time'
        when survivor_rank = 1 then 'earliest'
        when version_desc > 1 then 'superseded_by_unit'
        else 'other_unit'
    end as survivorship_reason
from ranked
