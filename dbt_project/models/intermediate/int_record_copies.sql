-- Every landed copy of every item, in the columns all items share (one row per landed record).
{% for item in catalog_items() %}
select
    item_code, natural_key_hash, batch_id, row_no, unit_code, channel, received_at, on_time,
    record_hash, compared_hash, decision_date, document_no, subject_name, subject_category, subject_uscc,
    subject_reg_no, subject_org_code, subject_person_hash, subject_person_masked, authority_uscc, region_code
from {{ ref('stg_landing__' ~ item) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
