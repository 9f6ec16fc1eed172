-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 政府机构失信被执行人案件台账: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('gov_dishonest_debtor_case', ['zfsx_ah', 'zfsx_zxfy', 'zfsx_jgmc', 'zfsx_jgdm', 'zfsx_jglx', 'zfsx_cj', 'zfsx_qhdm', 'zfsx_sxqx', 'zfsx_qkje', 'zfsx_zt', 'zfsx_larq', 'zfsx_lrrq', 'zfsx_hjrq', 'zfsx_scrq', 'zfsx_pc', 'bz']) }}
