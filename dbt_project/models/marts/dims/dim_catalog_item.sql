-- Catalog items (信息项) from contracts/catalog/ (generated seed).
select
    item_code, name_zh, category, catalog, version, disclosure, sharing,
    string_to_array(subject_types, ' ') as subject_types,
    update_frequency, deadline_working_days, deadline_from,
    string_to_array(natural_key, ' ') as natural_key
from {{ ref('ref_catalog_items') }}
