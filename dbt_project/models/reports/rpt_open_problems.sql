-- Problem data still open at each month's cutoff, per unit and item: how many, and the age in working days of
-- the oldest (from the day it arrived to the last day of the month, on the official calendar).
with p as (select * from {{ ref('rpt_periods') }}),
cal as (select day, workday_seq from {{ source('ledger', 'calendar') }}),
open_then as (
    select p.period, r.unit_code, r.item_code,
           ce.workday_seq - cr.workday_seq as age_working_days
    from p
    join {{ ref('rpt_rejected_records') }} as r
      on r.received_at < p.cutoff_at and not r.duplicate_only
     and (r.corrected_at is null or r.corrected_at >= p.cutoff_at)
    join cal as cr on cr.day = (r.received_at at time zone 'Asia/Shanghai')::date
    join cal as ce on ce.day = p.period_end
)
select o.period, o.unit_code, o.item_code, count(*) as open_records,
       max(o.age_working_days) as oldest_age_working_days,
       count(*) filter (where o.age_working_days > (select correction_window_working_days
                                                      from {{ ref('rpt_parameters') }})) as overdue_records
from open_then as o
group by 1, 2, 3
