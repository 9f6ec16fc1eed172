-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 严重政务失信认定信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('serious_gov_dishonesty', ['zwsx_ztmc', 'zwsx_ztdm', 'zwsx_qhdm', 'zwsx_sxxw', 'zwsx_rdyj', 'zwsx_rdwsh', 'zwsx_rdjg', 'zwsx_rdjgdm', 'zwsx_rdrq', 'zwsx_cjcs', 'zwsx_yxqz', 'zwsx_sjly', 'zwsx_sjlydm']) }}
