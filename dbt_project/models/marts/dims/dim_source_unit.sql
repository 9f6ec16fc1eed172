-- Source units (信源单位) from contracts/registry/units.yaml (generated seed).
select
    unit_code, name_zh, level, region_code, uscc, supervising_office,
    string_to_array(channels, ' ') as channels,
    string_to_array(items, ' ') as items
from {{ ref('ref_source_units') }}
