-- 政府机构失信被执行人: every case (案号 + the agency's USCC, the catalog's key without the state) known at a
-- month's cutoff, with its state then and at the previous month's cutoff (the version of the case history valid
-- at each cutoff, in platform-received time, so a past month never changes).
with p as (select * from {{ ref('rpt_periods') }}),
-- the case's state at each cutoff is the version of the warehouse's case history valid then (one rule for the
-- current state, the history and this report: a forwarded old state does not reopen a case)
h as (
    select concat_ws('|', case_no, agency_uscc) as case_key, case_no, court, agency_name, agency_uscc,
           agency_type, agency_level, region_code, city_code, amount_wan, status,
           listed_on, resolved_on, unit_code, batch_id, row_no, valid_from, valid_to
    from {{ ref('fct_gov_dishonest_case_history') }}
),
asof as (
    select p.period, p.prev_period, p.period_end, h.*
    from p join h on h.valid_from < p.cutoff_at and (h.valid_to is null or h.valid_to >= p.cutoff_at)
),
buckets as (select string_to_array(age_buckets, ' ')::int[] as b from {{ ref('rpt_parameters') }}),
flagged as (
    select e.period, e.case_key, e.case_no, e.court, e.agency_name, e.agency_uscc, e.agency_type, e.agency_level,
           e.region_code, e.city_code, e.amount_wan, e.listed_on, e.resolved_on, e.unit_code, e.batch_id, e.row_no,
           s.status as start_status, e.status as end_status,
           s.status in ('未履行', '部分履行') as outstanding_start,
           s.status is null as is_new,
           e.status in ('已履行', '已和解', '已删除') and (s.status is null or s.status in ('未履行', '部分履行'))
               as resolved,
           e.status in ('已履行', '已和解', '已删除') and s.status in ('已履行', '已和解', '已删除') as resolved_before,
           s.status in ('已履行', '已和解', '已删除') and e.status in ('未履行', '部分履行') as reopened,
           e.status in ('未履行', '部分履行') as outstanding_end,
           e.period_end - e.listed_on as age_days
    from asof as e
    left join asof as s on s.period = e.prev_period and s.case_key = e.case_key
)
select f.*,
       case when f.outstanding_end then
           (select count(*) from unnest(buckets.b) as x where x < f.age_days) + 1 end as age_bucket
from flagged as f cross join buckets
