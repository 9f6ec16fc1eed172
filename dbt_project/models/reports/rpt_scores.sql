-- The composite score (综合得分) of every unit and city per period: Σ weight × score over the indicators with a
-- denominator, rescaled by the weights present (contracts/indicators.yaml); ranked, with the change.
-- A subject that received fewer records than score_min_received_records in the period has no data: no score (not
-- 0 — its 完整率 alone, obligations due and none met, would make it 0), no rank; and the change from a previous
-- period without a score is null, never a change from 0.
with i as (select * from {{ ref('rpt_indicators') }}),
d as (select * from {{ ref('rpt_indicator_defs') }} where weight > 0),
params as (select score_scale, score_min_received_records from {{ ref('rpt_parameters') }}),
received as (  -- 合规率's denominator: the records received, as every indicator counts them
    select subject_type, subject_code, period_type, period, denominator as received
    from i where indicator = 'compliance'
),
weighted as (
    select i.subject_type, i.subject_code, max(i.subject_name) as subject_name, i.period_type, i.period,
           max(i.prev_period) as prev_period,
           sum(d.weight * case when d.higher_is_better then i.value else 1 - i.value end)
               / nullif(sum(d.weight) filter (where i.value is not null), 0) * max(params.score_scale) as score,
           sum(d.weight) filter (where i.value is not null) as weight_present
    from i join d on d.indicator = i.indicator cross join params
    group by i.subject_type, i.subject_code, i.period_type, i.period
),
scored as (
    select w.subject_type, w.subject_code, w.subject_name, w.period_type, w.period, w.prev_period,
           coalesce(r.received, 0) as received,
           coalesce(r.received, 0) >= p.score_min_received_records as has_data,
           case when coalesce(r.received, 0) >= p.score_min_received_records then w.score end as score,
           case when coalesce(r.received, 0) >= p.score_min_received_records then w.weight_present end
               as weight_present
    from weighted as w
    cross join params as p
    left join received as r
        on r.subject_type = w.subject_type and r.subject_code = w.subject_code
       and r.period_type = w.period_type and r.period = w.period
),
ranked as (
    select s.*,
           case when s.score is not null then rank() over (
               partition by s.subject_type, s.period_type, s.period, s.score is null order by s.score desc) end
               as rank
    from scored as s
)
select s.*, prev.score as prev_score, s.score - prev.score as change, prev.rank as prev_rank
from ranked as s
left join ranked as prev
    on prev.subject_type = s.subject_type and prev.subject_code = s.subject_code
   and prev.period_type = s.period_type and prev.period = s.prev_period
