-- 政府机构失信被执行人: every case (案号 + the agency's USCC, the catalog's key without the state) known at a month's cutoff, with its state then and at the previous
-- month's cutoff (the latest version the ledger had received by each cutoff, so a past month never changes).
with p as (select * from {{ ref('rpt_periods') }}),
h as (
    select concat_ws('|', zfsx_ah, zfsx_jgdm) as case_key, zfsx_ah as case_no, zfsx_zxfy as court, zfsx_jgmc as agency_name, zfsx_jgdm as agency_uscc,
           zfsx_jglx as agency_type, zfsx_cj as agency_level, zfsx_qhdm as region_code,
           left(zfsx_qhdm, 4) || '00' as city_code, zfsx_qkje as amount_wan, zfsx_zt as status,
           zfsx_lrrq as listed_on, zfsx_hjrq as resolved_on, unit_code, batch_id, row_no, received_at
    from {{ source('landing', 'gov_dishonest_debtor_case') }}
),
asof as (
    select distinct on (p.period, h.case_key) p.period, p.prev_period, p.period_end, h.*
    from p join h on h.received_at < p.cutoff_at
    order by p.period, h.case_key, h.received_at desc, h.batch_id desc, h.row_no desc
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
