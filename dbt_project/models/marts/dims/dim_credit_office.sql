-- Credit offices (信用办) from contracts/registry/offices.yaml (generated seed).
select office_code, name_zh, level, region_code, uscc, parent_office
from {{ ref('ref_credit_offices') }}
