-- depends_on: {{ ref('int_touched_keys') }}
-- depends_on: {{ ref('int_build_batches') }}
-- The counts behind rpt_duplication_burden, kept up to date by differences. Each fact contributes, for the set
-- of units that reported it: to each unit (other_unit_code '*') one fact reported, and one also reported by
-- another when the set has more than one unit; to each ordered pair of its units one fact shared
-- (facts_also_reported; facts_reported is 0 on pair rows).
-- Incremental: a build only adds copies, so for each fact it touched the set before it is the units of its
-- copies from earlier batches: the counts change by the new set's contributions minus the old set's. Rows that
-- fall to zero are deleted (a full build has none).
{{ config(materialized='incremental', unique_key=['unit_code', 'other_unit_code'],
          incremental_strategy='delete+insert', on_schema_change='append_new_columns',
          post_hook="delete from {{ this }} where case when other_unit_code = '*' then facts_reported
                     else facts_also_reported end = 0") }}
with sets as (
    select
        item_code,
        natural_key_hash,
        array_agg(distinct unit_code) as units_now
        {% if is_incremental() %},
        array_agg(distinct unit_code) filter (
            where batch_id not in (select batch_id from {{ ref('int_build_batches') }})) as units_before
        {% endif %}
    from {{ ref('int_record_survivorship') }}
    {% if is_incremental() %}
    where {{ credit_fact_in(ref('int_touched_keys')) }}
    {% endif %}
    group by item_code, natural_key_hash
),

signed as (
    select units_now as units, 1 as sign from sets
    {% if is_incremental() %}
    union all
    select units_before, -1 from sets where units_before is not null
    {% endif %}
),

contributions as (
    select u.unit_code, '*'::text as other_unit_code, s.sign as facts_reported,
           case when cardinality(s.units) > 1 then s.sign else 0 end as facts_also_reported
    from signed s
    cross join unnest(s.units) as u (unit_code)
    union all
    select a.unit_code, b.unit_code, 0, s.sign
    from signed s
    cross join unnest(s.units) as a (unit_code)
    cross join unnest(s.units) as b (unit_code)
    where a.unit_code <> b.unit_code
),

delta as (
    select unit_code, other_unit_code, sum(facts_reported)::bigint as facts_reported,
           sum(facts_also_reported)::bigint as facts_also_reported
    from contributions
    group by unit_code, other_unit_code
)

{% if is_incremental() %}
select
    d.unit_code,
    d.other_unit_code,
    coalesce(t.facts_reported, 0) + d.facts_reported as facts_reported,
    coalesce(t.facts_also_reported, 0) + d.facts_also_reported as facts_also_reported
from delta d
left join {{ this }} t on t.unit_code = d.unit_code and t.other_unit_code = d.other_unit_code
{% else %}
select unit_code, other_unit_code, facts_reported, facts_also_reported from delta
{% endif %}
