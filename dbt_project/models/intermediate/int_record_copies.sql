-- depends_on: {{ ref('int_build_batches') }}
-- Every landed copy of every item, in the columns all items share (one row per landed record). Incremental:
-- a build adds the copies of its batches (int_build_batches); the BRIN index on received_at keeps it from
-- reading the rest of the history.
-- (the pre-hook deletes the build's batches, should any be there: dbt's delete+insert on (batch_id, row_no)
-- probes the batch_id index once per row, a thousand rows each)
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook="{% if is_incremental() %}delete from {{ this }} where batch_id in
                    (select batch_id from {{ ref('int_build_batches') }}){% endif %}",
          indexes=[{'columns': ['batch_id', 'row_no'], 'unique': True},
                   {'columns': ['item_code', 'natural_key_hash']}]) }}
{% for item in catalog_items() %}
select
    item_code, natural_key_hash, batch_id, row_no, unit_code, channel, received_at, on_time,
    record_hash, compared_hash, decision_date, document_no, subject_name, subject_category, subject_uscc,
    subject_reg_no, subject_org_code, subject_person_hash, subject_person_masked, authority_uscc, region_code,
    active_until, state_date
from {{ ref('stg_landing__' ~ item) }}
{% if is_incremental() %}
where batch_id in (select batch_id from {{ ref('int_build_batches') }})
  and received_at >= (select coalesce(min(received_at), 'infinity') from {{ ref('int_build_batches') }})
{% endif %}
{% if not loop.last %}union all{% endif %}
{% endfor %}
