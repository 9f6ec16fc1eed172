-- 多头报送 burden over all items: per unit (other_unit_code = '*') how many facts it reported that another
-- unit also reported; per pair of units how many facts both reported. A fact counts once per unit however
-- often that unit repeated or corrected it.
with unit_facts as (
    select distinct item_code, natural_key_hash, unit_code
    from {{ ref('int_record_survivorship') }}
),

per_fact as (
    select item_code, natural_key_hash, count(*) as units
    from unit_facts
    group by 1, 2
),

per_unit as (
    select
        u.unit_code,
        '*'::text as other_unit_code,
        count(*) as facts_reported,
        count(*) filter (where f.units > 1) as facts_also_reported_by_other
    from unit_facts u
    join per_fact f using (item_code, natural_key_hash)
    group by u.unit_code
),

pairs as (
    select a.unit_code, b.unit_code as other_unit_code, count(*) as facts_shared
    from unit_facts a
    join unit_facts b
      on b.item_code = a.item_code and b.natural_key_hash = a.natural_key_hash and b.unit_code <> a.unit_code
    group by 1, 2
)

select
    unit_code,
    other_unit_code,
    facts_reported::integer as facts_reported,
    facts_also_reported_by_other::integer as facts_also_reported,
    round(facts_also_reported_by_other::numeric / nullif(facts_reported, 0), 4)::numeric(7, 4) as share_also_reported
from per_unit
union all
select
    p.unit_code,
    p.other_unit_code,
    u.facts_reported::integer,
    p.facts_shared::integer,
    round(p.facts_shared::numeric / nullif(u.facts_reported, 0), 4)::numeric(7, 4)
from pairs p
join per_unit u on u.unit_code = p.unit_code
