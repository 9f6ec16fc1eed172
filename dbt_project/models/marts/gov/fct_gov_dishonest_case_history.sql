-- Every state of every case with its validity [valid_from, valid_to) in platform-received time: the as-of
-- source. The state of a case as of a moment T is the row with valid_from <= T < coalesce(valid_to, infinity).
select
    case_key, version_no, case_no, agency_uscc, agency_name, agency_type, agency_level, region_code,
    left(region_code, 4) || '00' as city_code, court, status,
    status in ('已履行', '已和解', '已删除') as is_resolved,
    amount_wan, filed_on, listed_on, resolved_on, removed_on,
    unit_code, batch_id, row_no, valid_from, valid_to
from {{ ref('int_gov_case_versions') }}
