-- Source units obliged (registry) to report a 严重失信 item that sent no batch of it in the month.
with p as (select period from {{ ref('rpt_periods') }}),
sent as (
    select distinct unit_code, item_code, to_char(received_at at time zone 'Asia/Shanghai', 'YYYY-MM') as period
    from {{ source('ledger', 'batches') }}
)
select p.period, o.unit_code, u.unit_name, u.city_code, u.office_code, o.item_code, o.frequency
from {{ ref('obligation_schedule') }} as o
join {{ ref('rpt_units') }} as u on u.unit_code = o.unit_code
cross join p
where o.item_code in ('serious_dishonesty_list', 'serious_gov_dishonesty', 'serious_judicial_dishonesty')
  and not exists (select 1 from sent as s
                  where s.unit_code = o.unit_code and s.item_code = o.item_code and s.period = p.period)
