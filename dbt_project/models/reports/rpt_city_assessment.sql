-- 城市信用考核表: per city and month, the government-dishonesty resolution rate with the data-quality score of the
-- city's source units, weighted (contracts/indicators.yaml city_assessment) into one composite and ranked.
-- Without a resolution rate (no case to resolve) the data-quality part counts fully. A city whose units sent no
-- data in the month has no data-quality score (rpt_scores) and is not assessed: no composite, no rank.
with params as (select * from {{ ref('rpt_parameters') }}),
gov as (select * from {{ ref('rpt_gov_case_summary') }} where scope = 'all' and dimension = 'city'),
dq as (select * from {{ ref('rpt_scores') }} where subject_type = 'city' and period_type = 'month'),
joined as (
    select g.period, g.dim_value as city_code, g.dim_name as city_name,
           g.outstanding_start, g.new_cases, g.resolved, g.outstanding_end, g.resolution_rate, g.cleared,
           coalesce(dq.has_data, false) as has_data,
           dq.score as data_quality_score,
           case when dq.score is not null then
               (coalesce(p.gov_case_weight * g.resolution_rate, 0) + p.data_quality_weight * dq.score / p.score_scale)
               / nullif(case when g.resolution_rate is not null then p.gov_case_weight else 0 end
                        + p.data_quality_weight, 0)
               * p.score_scale
           end as composite
    from gov as g
    cross join params as p
    left join dq on dq.subject_code = g.dim_value and dq.period = g.period
)
select j.*,
       case when j.composite is not null then rank() over (
           partition by j.period, j.composite is null order by j.composite desc) end as rank
from joined as j
