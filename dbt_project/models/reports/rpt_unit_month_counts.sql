-- Per source unit and month: the numerators and denominators of the ledger-based indicators (DESIGN §4), as of
-- the month's cutoff. Every unit of the registry has a row for every month, zeros when it sent nothing.
with periods as (select period, cutoff_at from {{ ref('rpt_periods') }}),
batches as (
    select unit_code, to_char(received_at at time zone 'Asia/Shanghai', 'YYYY-MM') as period,
           count(*) as batches,
           count(*) filter (where batch_error_reason is not null) as batch_errors,
           -- a batch refused whole counts its readable rows, or 1 when none could be read
           sum(case when batch_error_reason is not null and rows = 0 then 1 else rows end) as received,
           sum(accepted) as accepted
    from {{ source('ledger', 'batches') }}
    group by 1, 2
),
records as (
    select unit_code, period,
           count(*) filter (where on_time is not null) as timed,
           count(*) filter (where on_time) as on_time,
           count(*) filter (where is_repeat) as accepted_repeats,
           count(*) filter (where is_repeat_of_other_unit) as repeats_of_other_units
    from {{ ref('rpt_ledger_records') }}
    group by 1, 2
),
obligations as (  -- 完整率: an obligation belongs to the month it falls due in (fct_obligations, reminders stage)
    select unit_code, to_char(due_date, 'YYYY-MM') as period,
           count(*) filter (where is_due) as obligations_due,
           count(*) filter (where is_due and status = 'met') as obligations_met
    from {{ ref('fct_obligations') }}
    group by 1, 2
),
rejected as (
    select r.unit_code, r.period,
           count(*) filter (where not r.duplicate_only) as correction_due,
           count(*) filter (where not r.duplicate_only and r.corrected_in_window
                            and r.corrected_at < p.cutoff_at) as corrected_in_window,
           count(*) filter (where r.repeats_accepted) as rejected_repeats,
           -- 及时率 counts rejected records too, those whose decision date could be read
           count(*) filter (where r.on_time is not null) as timed,
           count(*) filter (where r.on_time) as on_time
    from {{ ref('rpt_rejected_records') }} as r
    join periods as p on p.period = r.period
    group by 1, 2
)
select u.unit_code, p.period,
       coalesce(b.batches, 0) as batches,
       coalesce(b.batch_errors, 0) as batch_errors,
       coalesce(b.received, 0) as received,
       coalesce(b.accepted, 0) as accepted,
       coalesce(r.timed, 0) + coalesce(j.timed, 0) as timed,
       coalesce(r.on_time, 0) + coalesce(j.on_time, 0) as on_time,
       coalesce(r.timed, 0) + coalesce(j.timed, 0) - coalesce(r.on_time, 0) - coalesce(j.on_time, 0) as late,
       coalesce(j.timed, 0) as rejected_timed,
       coalesce(j.correction_due, 0) as correction_due,
       coalesce(j.corrected_in_window, 0) as corrected_in_window,
       coalesce(r.accepted_repeats, 0) + coalesce(j.rejected_repeats, 0) as repeats,
       coalesce(r.repeats_of_other_units, 0) as repeats_of_other_units,
       coalesce(o.obligations_due, 0) as obligations_due,
       coalesce(o.obligations_met, 0) as obligations_met
from {{ ref('rpt_units') }} as u
cross join periods as p
left join batches as b on b.unit_code = u.unit_code and b.period = p.period
left join records as r on r.unit_code = u.unit_code and r.period = p.period
left join rejected as j on j.unit_code = u.unit_code and j.period = p.period
left join obligations as o on o.unit_code = u.unit_code and o.period = p.period
