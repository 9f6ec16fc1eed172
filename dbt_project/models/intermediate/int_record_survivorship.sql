-- depends_on: {{ ref('int_touched_keys') }}
-- depends_on: {{ ref('int_build_batches') }}
-- The survivorship rule (docs/warehouse.md), one row per landed copy:
--   1. within a unit, its latest version of a fact replaces its earlier ones (a correction);
--   2. across units, among those latest versions: the copy of the unit that is the deciding authority itself
--      (unit USCC = the record's authority USCC) wins; else the unit that reported on time, earliest first;
--   3. ties: unit code, then batch and row (deterministic).
-- Items whose records carry a state (a case status) instead take the most advanced state among all copies: the
-- latest state date (删除日期, else 化解日期: a resolved case beats an open one), then the state first
-- received last (a corrected amount beats the old one). A case's state only moves forward: a unit forwarding
-- an old state, or a later copy of an earlier state, does not reopen it (a case reopened by the court is a new
-- 案号, 执恢). int_gov_case_versions applies the same order over time.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook=["{{ credit_prefetch_reads() }}",
                    "{% if is_incremental() %}delete from {{ this }}
                     where {{ credit_existing_fact_in() }}{% endif %}"],
          indexes=[{'columns': ['item_code', 'natural_key_hash']},
                   {'columns': ['batch_id', 'row_no'], 'unique': True}]) }}
-- Incremental: every copy of a fact the build's batches touch is ranked again (its rows deleted first, by the
-- fact: dbt's delete+insert on the copy's four columns nests loops over 10M rows). The copies are the build's
-- batches and, for the facts an earlier build has, their earlier copies.
-- (not materialized: read twice, and a materialized CTE would spool every copy of a full build)
with copies as not materialized (
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

{%- set stateful = catalog_stateful_items() %}
-- when the platform first received each state of a stateful fact (copies with the same compared values)
state_first as (
    select item_code, natural_key_hash, compared_hash, min(received_at) as state_first_received_at
    from copies
    where item_code in ('{{ stateful | join("', '") }}')
    group by item_code, natural_key_hash, compared_hash
),

versions as (
    select
        c.*,
        sf.state_first_received_at,
        row_number() over (partition by c.item_code, c.natural_key_hash, c.unit_code
                           order by c.received_at desc, c.batch_id desc, c.row_no desc) as version_desc,
        count(*) over (partition by c.item_code, c.natural_key_hash, c.unit_code) as unit_versions,
        min(c.received_at) over (partition by c.item_code, c.natural_key_hash, c.unit_code)
            as unit_first_received_at,
        bool_or(coalesce(c.on_time, false)) over (partition by c.item_code, c.natural_key_hash, c.unit_code)
            as unit_on_time
    from copies c
    left join state_first sf
      on sf.item_code = c.item_code and sf.natural_key_hash = c.natural_key_hash
     and sf.compared_hash = c.compared_hash
),

ranked as (
    select
        *,
        row_number() over survivorship as survivor_rank,
        first_value(compared_hash) over survivorship as winner_compared_hash,
        -- an uncontested fact is labelled as such, not by a step that decided nothing
        count(*) over (partition by item_code, natural_key_hash) as fact_copies,
        count(*) filter (where version_desc = 1) over (partition by item_code, natural_key_hash) as fact_units
    from versions
    window survivorship as (
        partition by item_code, natural_key_hash
        order by
            (state_first_received_at is not null or version_desc = 1) desc,
            coalesce(unit_uscc = authority_uscc, false) desc,
            case when state_first_received_at is not null then state_date end desc nulls last,
            state_first_received_at desc nulls last,
            unit_on_time desc,
            unit_first_received_at,
            unit_code,
            batch_id,
            row_no
    )
)

select
    item_code, natural_key_hash, batch_id, row_no, unit_code, channel, received_at, on_time,
    record_hash, compared_hash, authority_uscc, unit_uscc,
    version_desc, unit_versions,
    version_desc = 1 as is_current_in_unit,
    survivor_rank = 1 as is_winner,
    case
        when survivor_rank = 1 and fact_copies = 1 then 'single_copy'
        when survivor_rank = 1 and fact_units = 1 and state_first_received_at is null then 'unit_latest_version'
        when survivor_rank = 1 and coalesce(unit_uscc = authority_uscc, false) then 'deciding_authority'
        when survivor_rank = 1 and state_first_received_at is not null then 'latest_state'
        when survivor_rank = 1 and unit_on_time then 'earliest_on_time'
        when survivor_rank = 1 then 'earliest'
        -- a state the case has moved beyond (an old state forwarded, a unit's own later copy of it)
        when state_first_received_at is not null and compared_hash <> winner_compared_hash then 'earlier_state'
        when version_desc > 1 then 'superseded_by_unit'
        else 'other_unit'
    end as survivorship_reason
from ranked
