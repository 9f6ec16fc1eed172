-- Every monthly numerator and denominator equals the sum of the records the drill-down lists behind it.
with dd as (
    select indicator, subject_type, subject_code, period,
           sum(records) filter (where in_numerator) as numerator,
           sum(records) filter (where in_denominator) as denominator
    from {{ ref('rpt_indicator_drilldown') }}
    group by 1, 2, 3, 4
)
select i.indicator, i.subject_type, i.subject_code, i.period, i.numerator, i.denominator,
       dd.numerator as dd_numerator, dd.denominator as dd_denominator
from {{ ref('rpt_indicators') }} as i
left join dd using (indicator, subject_type, subject_code, period)
where i.period_type = 'month' and i.indicator in (select indicator from dd)
  and (i.numerator <> coalesce(dd.numerator, 0) or i.denominator <> coalesce(dd.denominator, 0))
