-- Days with China's official working days (the platform's calendar, landing.calendar, filled from
-- contracts/calendar.yaml and the chinesecalendar package by the landing schema).
select
    day,
    is_workday,
    workday_seq,
    source as workday_source,
    extract(isodow from day)::integer as iso_weekday,
    to_char(day, 'YYYY-MM') as month,
    date_trunc('month', day)::date as month_start
from {{ source('landing', 'calendar') }}
