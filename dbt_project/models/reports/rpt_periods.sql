-- Report months (Beijing time) from the first batch received to the current month. A month's figures are as of
-- its cutoff (the first moment of the next month): what arrived later never changes them.
with bounds as (
    select coalesce(min((received_at at time zone 'Asia/Shanghai')::date),
                    (now() at time zone 'Asia/Shanghai')::date) as first_day
    from {{ source('ledger', 'batches') }}
)
select to_char(m, 'YYYY-MM') as period,
       m::date as period_start,
       (m + interval '1 month' - interval '1 day')::date as period_end,
       ((m + interval '1 month')::timestamp at time zone 'Asia/Shanghai') as cutoff_at,
       to_char(m - interval '1 month', 'YYYY-MM') as prev_period,
       extract(year from m)::int || '-Q' || extract(quarter from m)::int as quarter,
       extract(year from m)::int::text as year
from bounds,
     generate_series(date_trunc('month', first_day),
                     date_trunc('month', (now() at time zone 'Asia/Shanghai')), interval '1 month') as m
