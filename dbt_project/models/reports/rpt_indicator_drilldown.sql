-- Drill-down: for (indicator, unit or city, month) the batches and records behind the numerator and the
-- denominator. `records` is 1 for a record, or the count a whole refused batch stands for; summing
-- `records` over in_numerator / in_denominator gives rpt_indicators' figures (a test checks it).
with p as (select period, cutoff_at from {{ ref('rpt_periods') }}),
acc as (select * from {{ ref('rpt_ledger_records') }}),
rej as (select * from {{ ref('rpt_rejected_records') }}),
whole as (  -- batches refused whole: no record rows behind them
    select batch_id, unit_code, item_code, received_at,
           to_char(received_at at time zone 'Asia/Shanghai', 'YYYY-MM') as period,
           case when rows = 0 then 1 else rows end as records, batch_error_reason
    from {{ source('ledger', 'batches') }}
    where batch_error_reason is not null
),
received as (
    select unit_code, period, item_code, batch_id, row_no, 1 as records, true as accepted, is_repeat,
           'accepted'::text as detail from acc
    union all
    select unit_code, period, item_code, batch_id, row_no, 1, false, repeats_accepted, reasons from rej
    union all
    select unit_code, period, item_code, batch_id, null, records, false, false, batch_error_reason from whole
),
timed as (  -- 及时率: accepted and rejected records whose decision date could be read
    select unit_code, period, item_code, batch_id, row_no, on_time,
           case when on_time then 'on_time' else 'late' end as detail
    from acc where on_time is not null
    union all
    select unit_code, period, item_code, batch_id, row_no, on_time,
           case when on_time then 'on_time' else 'late' end || ' rejected decided:' || decision_date
    from rej where on_time is not null
),
unit_rows as (
    select 'compliance'::text as indicator, unit_code, period, item_code, batch_id, row_no, records,
           accepted as in_numerator, true as in_denominator, detail from received
    union all
    select 'duplication', unit_code, period, item_code, batch_id, row_no, records, is_repeat, true,
           detail from received
    union all
    select 'timeliness', unit_code, period, item_code, batch_id, row_no, 1, on_time, true, detail from timed
    union all
    select 'lateness', unit_code, period, item_code, batch_id, row_no, 1, not on_time, true, detail from timed
    union all
    select 'correction', r.unit_code, r.period, r.item_code, r.batch_id, r.row_no, 1,
           r.corrected_in_window and r.corrected_at < p.cutoff_at, true,
           coalesce('corrected_by:' || r.corrected_by_batch, 'open') || ' due:' || r.correction_due_on
    from rej as r join p on p.period = r.period
    where not r.duplicate_only
    union all
    select 'completeness', unit_code, to_char(due_date, 'YYYY-MM'), item_code, first_batch.batch_id, null, 1,
           status = 'met', true, obligation_id || ' ' || status || ' due:' || due_date
    from {{ ref('fct_obligations') }} as o
    left join lateral (
        select min(b.batch_id) as batch_id from {{ source('ledger', 'batches') }} as b
        where b.unit_code = o.unit_code and b.item_code = o.item_code and b.received_at = o.first_received_at
    ) as first_batch on true
    where o.is_due
)
select indicator, 'unit'::text as subject_type, unit_code as subject_code, period, unit_code, item_code, batch_id,
       row_no, records, in_numerator, in_denominator, detail
from unit_rows
union all
select r.indicator, 'city', u.city_code, r.period, r.unit_code, r.item_code, r.batch_id, r.row_no, r.records,
       r.in_numerator, r.in_denominator, r.detail
from unit_rows as r
join {{ ref('rpt_units') }} as u on u.unit_code = r.unit_code
where u.city_code in (select city_code from {{ ref('rpt_cities') }})
