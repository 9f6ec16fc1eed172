-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 司法失信认定信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('serious_judicial_dishonesty', ['sfsx_ztmc', 'sfsx_ztdm', 'sfsx_qhdm', 'sfsx_sxxw', 'sfsx_rdyj', 'sfsx_rdwsh', 'sfsx_rdjg', 'sfsx_rdjgdm', 'sfsx_rdrq', 'sfsx_cjcs', 'sfsx_yxqz', 'sfsx_sjly', 'sfsx_sjlydm']) }}
