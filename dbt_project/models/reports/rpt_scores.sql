-- The composite score (综合得分) of every unit and city per period: Σ weight × score over the indicators with a
-- denominator, rescaled by the weights present (contracts/indicators.yaml); ranked, with the change.
with i as (select * from {{ ref('rpt_indicators') }}),
d as (select * from {{ ref('rpt_indicator_defs') }} where weight > 0),
params as (select score_scale from {{ ref('rpt_parameters') }}),
scored as (
    select i.subject_type, i.subject_code, max(i.subject_name) as subject_name, i.period_type, i.period,
           max(i.prev_period) as prev_period,
           sum(d.weight * case when d.higher_is_better then i.value else 1 - i.value end)
               / nullif(sum(d.weight) filter (where i.value is not null), 0) * max(params.score_scale) as score,
           sum(d.weight) filter (where i.value is not null) as weight_present
    from i join d on d.indicator = i.indicator cross join params
    group by i.subject_type, i.subject_code, i.period_type, i.period
)
select s.*,
       case when s.score is not null then rank() over (
           partition by s.subject_type, s.period_type, s.period, s.score is null order by s.score desc) end as rank,
       prev.score as prev_score, s.score - prev.score as change,
       prev_rank.rank as prev_rank
from scored as s
left join scored as prev
    on prev.subject_type = s.subject_type and prev.subject_code = s.subject_code
   and prev.period_type = s.period_type and prev.period = s.prev_period
left join (
    select subject_type, subject_code, period_type, period,
           rank() over (partition by subject_type, period_type, period, score is null order by score desc) as rank
    from scored where score is not null
) as prev_rank
    on prev_rank.subject_type = s.subject_type and prev_rank.subject_code = s.subject_code
   and prev_rank.period_type = s.period_type and prev_rank.period = s.prev_period
