-- Every indicator of every source unit and city, per month, quarter and year (the parts add up over months):
-- numerator, denominator, value, its rank among peers and the change from the previous period.
{%- set grains = [('month', 'c.period'), ('quarter', 'p.quarter'), ('year', 'p.year')] %}
{%- set subjects = [('unit', 'c.unit_code', 'u.unit_name'), ('city', 'u.city_code', 'u.city_name')] %}
with c as (select * from {{ ref('rpt_unit_month_counts') }}),
u as (select * from {{ ref('rpt_units') }}),
p as (select * from {{ ref('rpt_periods') }}),
sums as (
{%- for st, code, name in subjects %}{% for pt, period in grains %}
    select '{{ st }}'::text as subject_type, {{ code }} as subject_code, max({{ name }}) as subject_name,
           '{{ pt }}'::text as period_type, {{ period }} as period,
           sum(received) as received, sum(accepted) as accepted, sum(timed) as timed, sum(on_time) as on_time,
           sum(correction_due) as correction_due, sum(corrected_in_window) as corrected_in_window,
           sum(repeats) as repeats, sum(obligations_due) as obligations_due, sum(obligations_met) as obligations_met
    from c join u on u.unit_code = c.unit_code join p on p.period = c.period
    {%- if st == 'city' %}
    where u.city_code in (select city_code from {{ ref('rpt_cities') }})
    {%- endif %}
    group by {{ code }}, {{ period }}
    {%- if not loop.last or st == 'unit' %}
    union all
    {%- endif %}
{%- endfor %}{% endfor %}
),
long as (
    select subject_type, subject_code, subject_name, period_type, period, 'compliance' as indicator,
           accepted as numerator, received as denominator from sums
    union all
    select subject_type, subject_code, subject_name, period_type, period, 'timeliness', on_time, timed from sums
    union all
    select subject_type, subject_code, subject_name, period_type, period, 'lateness', timed - on_time, timed from sums
    union all
    select subject_type, subject_code, subject_name, period_type, period, 'correction', corrected_in_window,
           correction_due from sums
    union all
    select subject_type, subject_code, subject_name, period_type, period, 'duplication', repeats, received from sums
    union all
    select subject_type, subject_code, subject_name, period_type, period, 'completeness', obligations_met,
           obligations_due from sums
),
valued as (
    select l.*, d.name_zh as indicator_name, d.higher_is_better, d.flag_above, d.sort_order,
           case when l.denominator > 0 then l.numerator::numeric / l.denominator end as value,
           case l.period_type
               when 'month' then to_char(to_date(l.period || '-01', 'YYYY-MM-DD') - interval '1 month', 'YYYY-MM')
               when 'quarter' then case when right(l.period, 1) = '1'
                                        then (left(l.period, 4)::int - 1) || '-Q4'
                                        else left(l.period, 6) || (right(l.period, 1)::int - 1) end
               else (l.period::int - 1)::text
           end as prev_period
    from long as l
    join {{ ref('rpt_indicator_defs') }} as d on d.indicator = l.indicator
)
select v.subject_type, v.subject_code, v.subject_name, v.period_type, v.period, v.indicator, v.indicator_name,
       v.numerator, v.denominator, v.value, v.sort_order,
       case when v.value is not null then rank() over (
           partition by v.subject_type, v.period_type, v.period, v.indicator, v.value is null
           order by case when v.higher_is_better then -v.value else v.value end) end as rank,
       v.prev_period, prev.value as prev_value, v.value - prev.value as change,
       coalesce(v.flag_above is not null and v.value > v.flag_above, false) as flagged
from valued as v
left join valued as prev
    on prev.subject_type = v.subject_type and prev.subject_code = v.subject_code
   and prev.period_type = v.period_type and prev.period = v.prev_period and prev.indicator = v.indicator
