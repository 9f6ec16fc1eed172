-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 公用事业缴费信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('utility_payment', ['gy_zhbh', 'gy_fcbh', 'gy_lx', 'gy_hzmc', 'gy_hzdm', 'gy_dqsyr', 'gy_dqsyrdm', 'gy_zdq', 'gy_qfje', 'gy_qfqsrq', 'gy_gdw', 'gy_gdwdm']) }}
