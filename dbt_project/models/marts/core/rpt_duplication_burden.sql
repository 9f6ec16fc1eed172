-- 多头报送 burden over all items: per unit (other_unit_code = '*') how many facts it reported that another
-- unit also reported; per pair of units how many facts both reported. A fact counts once per unit however
-- often that unit repeated or corrected it. The counts are kept by int_burden_counts (a few rows per unit).
with counts as (select * from {{ ref('int_burden_counts') }}),

per_unit as (
    select unit_code, facts_reported, facts_also_reported from counts where other_unit_code = '*'
)

select
    unit_code,
    '*'::text as other_unit_code,
    facts_reported::integer as facts_reported,
    facts_also_reported::integer as facts_also_reported,
    round(facts_also_reported::numeric / nullif(facts_reported, 0), 4)::numeric(7, 4) as share_also_reported
from per_unit
union all
select
    c.unit_code,
    c.other_unit_code,
    u.facts_reported::integer,
    c.facts_also_reported::integer,
    round(c.facts_also_reported::numeric / nullif(u.facts_reported, 0), 4)::numeric(7, 4)
from counts c
join per_unit u on u.unit_code = c.unit_code
where c.other_unit_code <> '*'
