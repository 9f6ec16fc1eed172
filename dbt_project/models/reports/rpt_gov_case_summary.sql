-- 政府机构失信被执行人专项治理: per month, by city, by agency type, by agency level and in total — new,
-- resolved (履行 / 和解 / 删除), outstanding at the start and the end, the resolution rate
-- resolved / (outstanding at the start + new), ageing of the outstanding cases, and 清零. `scope` is 'all' (the
-- province, for the provincial office) or a city code (that city's office: its totals and its breakdowns).
with m as (select * from {{ ref('rpt_gov_case_month') }}),
g as (
    select period,
           case when grouping(city_code) = 0 and grouping(agency_type) + grouping(agency_level) = 2 then 'all'
                when grouping(city_code) = 0 then city_code else 'all' end as scope,
           case when grouping(agency_type) = 0 then 'agency_type' when grouping(agency_level) = 0 then 'agency_level'
                when grouping(city_code) = 0 then 'city' else 'total' end as dimension,
           coalesce(agency_type, agency_level, city_code, '全部') as dim_value,
           count(*) filter (where outstanding_start) as outstanding_start,
           count(*) filter (where is_new) as new_cases,
           count(*) filter (where resolved) as resolved,
           count(*) filter (where resolved and end_status = '已履行') as resolved_performed,
           count(*) filter (where resolved and end_status = '已和解') as resolved_settled,
           count(*) filter (where resolved and end_status = '已删除') as resolved_deleted,
           count(*) filter (where reopened) as reopened,
           count(*) filter (where outstanding_end) as outstanding_end,
           coalesce(sum(amount_wan) filter (where outstanding_end), 0) as outstanding_amount_wan,
           count(*) filter (where age_bucket = 1) as age_bucket_1,
           count(*) filter (where age_bucket = 2) as age_bucket_2,
           count(*) filter (where age_bucket = 3) as age_bucket_3,
           count(*) filter (where age_bucket >= 4) as age_bucket_4
    from m
    group by grouping sets ((period), (period, city_code), (period, agency_type), (period, agency_level),
                            (period, city_code, agency_type), (period, city_code, agency_level))
),
cities as (  -- every city has a row every month, zeros included (a city with none is listed as such)
    select p.period, 'all'::text as scope, 'city'::text as dimension, c.city_code as dim_value
    from {{ ref('rpt_periods') }} as p cross join {{ ref('rpt_cities') }} as c
)
select coalesce(g.period, c.period) as period, coalesce(g.scope, c.scope) as scope,
       coalesce(g.dimension, c.dimension) as dimension,
       coalesce(g.dim_value, c.dim_value) as dim_value,
       case when coalesce(g.dimension, c.dimension) = 'city' then cn.city_name
            else coalesce(g.dim_value, c.dim_value) end as dim_name,
       coalesce(outstanding_start, 0) as outstanding_start, coalesce(new_cases, 0) as new_cases,
       coalesce(resolved, 0) as resolved, coalesce(resolved_performed, 0) as resolved_performed,
       coalesce(resolved_settled, 0) as resolved_settled, coalesce(resolved_deleted, 0) as resolved_deleted,
       coalesce(reopened, 0) as reopened, coalesce(outstanding_end, 0) as outstanding_end,
       coalesce(outstanding_amount_wan, 0) as outstanding_amount_wan,
       case when coalesce(outstanding_start, 0) + coalesce(new_cases, 0) > 0
            then resolved::numeric / (outstanding_start + new_cases) end as resolution_rate,
       coalesce(age_bucket_1, 0) as age_bucket_1, coalesce(age_bucket_2, 0) as age_bucket_2,
       coalesce(age_bucket_3, 0) as age_bucket_3, coalesce(age_bucket_4, 0) as age_bucket_4,
       -- 清零: cases to resolve this month (or before) and none outstanding at its end
       coalesce(outstanding_start, 0) + coalesce(new_cases, 0) > 0 and coalesce(outstanding_end, 0) = 0 as cleared
from g
full join cities as c
    on c.period = g.period and c.scope = g.scope and c.dimension = g.dimension and c.dim_value = g.dim_value
left join {{ ref('rpt_cities') }} as cn on cn.city_code = coalesce(g.dim_value, c.dim_value)
