{#- One row per reporting obligation: source unit × catalog item × period (working day, ISO week or month, from the
    registry's frequency), due on the catalog deadline (working days after the period's last working day, on the
    official calendar), and whether it was met, late or missed as of var('as_of') (default: today in Beijing).

    An obligation is met by the first batch the unit sends for the item on or after the period's start (a batch
    nobody could read does not count). Periods run from the platform's first batch (or var('obligations_start'))
    to 45 days after as_of, so reminders evaluating a later day of a timeline find the obligations of that day.
    Read by the reminders (overdue submissions) and by the 完整率 indicator: obligations met / obligations due. -#}
{%- set as_of = var('as_of', none) -%}
{%- set start = var('obligations_start', none) -%}
with params as (
    select {% if as_of %}cast('{{ as_of }}' as date){% else %}(now() at time zone 'Asia/Shanghai')::date{% endif %}
           as as_of
),

cal as (
    select day, is_workday, workday_seq from {{ source('ledger', 'calendar') }}
),

submissions as (
    select unit_code, item_code, received_at, (received_at at time zone 'Asia/Shanghai')::date as received_date
    from {{ source('ledger', 'batches') }}
    where batch_error_reason is null
),

bounds as (
    select coalesce({% if start %}cast('{{ start }}' as date){% else %}null::date{% endif %},
                    (select min(received_date) from submissions), p.as_of) as first_day,
           p.as_of + 45 as last_day
    from params as p
),

days as (
    select c.day, c.is_workday
    from cal as c cross join bounds as b
    where c.day between b.first_day and b.last_day
),

periods as (
    select 'daily' as frequency, to_char(day, 'YYYY-MM-DD') as period, day as period_start, day as period_end
    from days where is_workday
    union
    select 'weekly', to_char(day, 'IYYY-"W"IW'), date_trunc('week', day)::date, date_trunc('week', day)::date + 6
    from days
    union
    select 'monthly', to_char(day, 'YYYY-MM'), date_trunc('month', day)::date,
           (date_trunc('month', day) + interval '1 month' - interval '1 day')::date
    from days
),

period_last_workday as (
    select p.frequency, p.period, p.period_start, p.period_end, max(c.workday_seq) as last_workday_seq
    from periods as p
    join cal as c on c.day between p.period_start and p.period_end and c.is_workday
    group by 1, 2, 3, 4
),

obligations as (
    select s.unit_code, s.item_code, s.frequency, s.supervising_office, s.deadline_working_days,
           p.period, p.period_start, p.period_end, d.day as due_date, d.workday_seq as due_workday_seq
    from {{ ref('obligation_schedule') }} as s
    join period_last_workday as p on p.frequency = s.frequency
    join cal as d on d.is_workday and d.workday_seq = p.last_workday_seq + s.deadline_working_days
),

-- the first submission on or after each period's start: obligations and submissions in one stream per
-- unit × item, latest day first (a day's submissions before its obligations), so a running minimum reaches
-- every obligation starting on or before a submission
stream as (
    select unit_code, item_code, period, period_start as at_day, 1 as is_obligation,
           null::timestamptz as received_at
    from obligations
    union all
    select unit_code, item_code, null, received_date, 0, received_at
    from submissions
),

first_submission as (
    select unit_code, item_code, period, is_obligation,
           min(received_at) over (partition by unit_code, item_code order by at_day desc, is_obligation
                                  rows between unbounded preceding and current row) as first_received_at
    from stream
),

joined as (
    select o.*, f.first_received_at,
           (f.first_received_at at time zone 'Asia/Shanghai')::date as first_received_date, p.as_of
    from obligations as o
    join first_submission as f
        on f.is_obligation = 1 and f.unit_code = o.unit_code and f.item_code = o.item_code and f.period = o.period
    cross join params as p
)

select unit_code || ':' || item_code || ':' || period as obligation_id,
       unit_code, item_code, frequency, period, period_start, period_end, deadline_working_days,
       due_date, due_workday_seq, supervising_office, first_received_at, first_received_date, as_of,
       due_date <= as_of as is_due,
       case
           when first_received_date <= as_of and first_received_date <= due_date then 'met'
           when first_received_date <= as_of then 'late'
           when due_date < as_of then 'missed'
           else 'open'
       end as status
from joined
