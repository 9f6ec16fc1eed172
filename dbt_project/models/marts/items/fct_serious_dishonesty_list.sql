-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 严重失信主体名单信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('serious_dishonesty_list', ['yz_ztmc', 'yz_ztlb', 'yz_shxym', 'yz_zjhm_hash', 'yz_zjhm_masked', 'yz_mdlb', 'yz_rdwsh', 'yz_rdyj', 'yz_sxxw', 'yz_rdjg', 'yz_rdjgdm', 'yz_rdrq', 'yz_yxqz', 'yz_sjly', 'yz_sjlydm']) }}
