-- One row per rejected record (the ledger has one per failing field), with its correction deadline: N working
-- days (contracts/indicators.yaml) after the day it arrived, on the official calendar — a correction on the
-- weekend after a Friday deadline is late; and its decision date and on_time as measured at load time (及时率
-- counts rejected records whose decision date could be read, DESIGN §4).
with r as (
    select batch_id, row_no, unit_code, item_code, received_at,
           max(natural_key_hash) as natural_key_hash,
           bool_and(reason = 'duplicate_in_batch') as duplicate_only,
           string_agg(distinct reason, ',') as reasons,
           max(corrected_by_batch) as corrected_by_batch,
           max(corrected_at) as corrected_at
    from {{ source('ledger', 'rejections') }}
    group by batch_id, row_no, unit_code, item_code, received_at
),
params as (select correction_window_working_days as window_days from {{ ref('rpt_parameters') }}),
cal as (select day, is_workday, workday_seq from {{ source('ledger', 'calendar') }}),
dated as (
    select r.*,
           (r.received_at at time zone 'Asia/Shanghai')::date as received_on,
           (r.corrected_at at time zone 'Asia/Shanghai')::date as corrected_on,
           c.workday_seq as received_seq
    from r
    join cal as c on c.day = (r.received_at at time zone 'Asia/Shanghai')::date
)
select d.batch_id, d.row_no, d.unit_code, d.item_code, d.received_at,
       to_char(d.received_at at time zone 'Asia/Shanghai', 'YYYY-MM') as period,
       d.natural_key_hash, d.duplicate_only, d.reasons, d.corrected_by_batch, d.corrected_at,
       t.decision_date, t.on_time,
       due.day as correction_due_on,
       coalesce(d.corrected_on <= due.day, false) as corrected_in_window,
       exists (
           select 1 from {{ ref('rpt_ledger_records') }} as l
           where l.item_code = d.item_code and l.natural_key_hash = d.natural_key_hash
             and (l.received_at < d.received_at or (l.batch_id = d.batch_id and l.row_no < d.row_no))
       ) as repeats_accepted
from dated as d
cross join params as p
left join {{ source('ledger_reports', 'rejected_records') }} as t on t.batch_id = d.batch_id and t.row_no = d.row_no
left join lateral (
    select min(c.day) as day from cal as c
    where c.is_workday and c.workday_seq = d.received_seq + p.window_days
) as due on true
