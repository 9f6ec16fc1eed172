-- Government dishonest-debtor cases per month (Beijing time, by platform-received time), as of the month's
-- end: new (first received in the month), resolved (履行/和解/删除 by the month's end, having been outstanding
-- at its start or new in it), outstanding at the start and at the end. Recomputed from the case history, so a
-- later report that changes a case does not change a past month.
with bounds as (
    select
        (min(valid_from) at time zone 'Asia/Shanghai')::date as first_day,
        greatest((max(valid_from) at time zone 'Asia/Shanghai')::date,
                 ({{ credit_now() }} at time zone 'Asia/Shanghai')::date) as last_day
    from {{ ref('fct_gov_dishonest_case_history') }}
),

months as (
    select
        m::date as month_start,
        ((m + interval '1 month') at time zone 'Asia/Shanghai') as month_end_at,
        (m at time zone 'Asia/Shanghai') as month_start_at
    from bounds,
         generate_series(date_trunc('month', first_day::timestamp), date_trunc('month', last_day::timestamp),
                         interval '1 month') m
),

state_at as (
    -- each case's state at the start and at the end of each month (null: not yet received)
    select
        m.month_start,
        h.case_key,
        bool_or(h.valid_from < m.month_start_at
                and (h.valid_to is null or h.valid_to >= m.month_start_at)) as known_at_start,
        bool_or(h.is_resolved and h.valid_from < m.month_start_at
                and (h.valid_to is null or h.valid_to >= m.month_start_at)) as resolved_at_start,
        bool_or(h.valid_from < m.month_end_at and (h.valid_to is null or h.valid_to >= m.month_end_at))
            as known_at_end,
        bool_or(h.is_resolved and h.valid_from < m.month_end_at
                and (h.valid_to is null or h.valid_to >= m.month_end_at)) as resolved_at_end
    from months m
    join {{ ref('fct_gov_dishonest_case_history') }} h on h.valid_from < m.month_end_at
    group by 1, 2
)

select
    to_char(m.month_start, 'YYYY-MM') as month,
    count(s.case_key) filter (where s.known_at_end and not s.known_at_start)::integer as new_cases,
    count(s.case_key) filter (where s.resolved_at_end
                                and (not s.known_at_start or not s.resolved_at_start))::integer as resolved_cases,
    count(s.case_key) filter (where s.known_at_start and not s.resolved_at_start)::integer as outstanding_at_start,
    count(s.case_key) filter (where s.known_at_end and not s.resolved_at_end)::integer as outstanding_at_end
from months m
left join state_at s on s.month_start = m.month_start
group by m.month_start
