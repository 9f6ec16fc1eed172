-- 严重失信 ledger: identifications (认定) of the three kinds known at each month's cutoff (the latest version of
-- each), by identifying body and type, active (有效期内) or ended, and new in the month.
with p as (select * from {{ ref('rpt_periods') }}),
ids as (
    select 'serious_dishonesty_list'::text as item_code, '严重失信主体名单'::text as kind_zh, yz_mdlb as list_type,
           yz_rdjg as authority, yz_rdrq as decided_on, yz_yxqz as valid_until, unit_code, natural_key_hash,
           batch_id, row_no, received_at
    from {{ source('landing', 'serious_dishonesty_list') }}
    union all
    select 'serious_gov_dishonesty', '严重政务失信', '严重政务失信', zwsx_rdjg, zwsx_rdrq, zwsx_yxqz, unit_code,
           natural_key_hash, batch_id, row_no, received_at
    from {{ source('landing', 'serious_gov_dishonesty') }}
    union all
    select 'serious_judicial_dishonesty', '严重司法失信', '严重司法失信', sfsx_rdjg, sfsx_rdrq, sfsx_yxqz, unit_code,
           natural_key_hash, batch_id, row_no, received_at
    from {{ source('landing', 'serious_judicial_dishonesty') }}
),
asof as (
    select distinct on (p.period, i.item_code, i.natural_key_hash)
           p.period, p.period_start, p.period_end, i.*, min(i.received_at) over (
               partition by p.period, i.item_code, i.natural_key_hash) as first_received_at
    from p join ids as i on i.received_at < p.cutoff_at
    order by p.period, i.item_code, i.natural_key_hash, i.received_at desc, i.batch_id desc, i.row_no desc
)
select a.period, a.item_code, a.kind_zh, a.list_type, a.authority, a.unit_code, u.city_code,
       count(*) as identifications,
       count(*) filter (where a.valid_until >= a.period_end) as active,
       count(*) filter (where a.valid_until < a.period_end) as ended,
       count(*) filter (where (a.first_received_at at time zone 'Asia/Shanghai')::date >= a.period_start) as new_in_period
from asof as a
left join {{ ref('rpt_units') }} as u on u.unit_code = a.unit_code
group by 1, 2, 3, 4, 5, 6, 7
