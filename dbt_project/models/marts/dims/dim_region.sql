-- GB/T 2260 regions of the province from contracts/regions.yaml (generated seed).
select region_code, name_zh, level, parent_code
from {{ ref('ref_regions') }}
