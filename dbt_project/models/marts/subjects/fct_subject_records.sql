-- Bridge: every golden record to its subject (dim_subject), with how the subject was identified and whether
-- the record counts in the subject's credit profile (a stale utility bill does not).
select
    s.item_code,
    s.natural_key_hash,
    s.subject_key,
    s.link_method,
    i.category,
    coalesce(not u.is_stale, true) as is_attributed,
    s.received_at as winning_received_at
from {{ ref('int_golden_subjects') }} s
join {{ ref('dim_catalog_item') }} i on i.item_code = s.item_code
left join {{ ref('fct_utility_bill_owner') }} u
  on s.item_code = 'utility_payment' and u.natural_key_hash = s.natural_key_hash
