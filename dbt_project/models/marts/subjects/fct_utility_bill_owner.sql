-- Utility bills (公用事业缴费) and their owners: a bill whose 户主 differs from the 当前所有人 it carries, or
-- whose property shows another holder in a later billing period (another USCC; by name when either has none),
-- is stale — counted and shown here, never attributed to the old owner's credit profile.
with bills as (
    select
        natural_key_hash, gy_zhbh as account_no, gy_fcbh as property_no, gy_lx as utility_type,
        gy_zdq as billing_period, gy_hzmc as holder_name, gy_hzdm as holder_uscc,
        gy_dqsyr as current_owner_name,
        -- an owner named as the bill's own holder, without a code, is that holder (by its USCC)
        coalesce(gy_dqsyrdm, case when gy_dqsyr = gy_hzmc then gy_hzdm end) as current_owner_uscc,
        gy_qfje as arrears_yuan,
        gy_gdw as supplier_name
    from {{ ref('fct_utility_payment') }}
),

flagged as (
    select
        b.*,
        {{ different_party('b.current_owner_name', 'b.current_owner_uscc', 'b.holder_name', 'b.holder_uscc') }}
            as holder_is_not_current_owner,
        exists (
            select 1 from bills later
            where later.property_no = b.property_no and later.billing_period > b.billing_period
              and ({{ different_party('later.holder_name', 'later.holder_uscc', 'b.holder_name', 'b.holder_uscc') }}
                   or {{ different_party('later.current_owner_name', 'later.current_owner_uscc',
                                         'b.holder_name', 'b.holder_uscc') }})
        ) as holder_changed_later
    from bills b
)

select
    f.*,
    f.holder_is_not_current_owner or f.holder_changed_later as is_stale,
    s.subject_key as holder_subject_key,
    case when not (f.holder_is_not_current_owner or f.holder_changed_later) then s.subject_key end
        as attributed_subject_key
from flagged f
left join {{ ref('int_golden_subjects') }} s
  on s.item_code = 'utility_payment' and s.natural_key_hash = f.natural_key_hash
