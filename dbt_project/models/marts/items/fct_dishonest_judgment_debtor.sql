-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 失信被执行人信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('dishonest_judgment_debtor', ['sx_bzxr_mc', 'sx_bzxr_lb', 'sx_shxym', 'sx_zjhm_hash', 'sx_zjhm_masked', 'sx_frdb', 'sx_zxfy', 'sx_sf', 'sx_zxyjwh', 'sx_larq', 'sx_ah', 'sx_zczxyjdw', 'sx_yw', 'sx_lxqk', 'sx_sxqx', 'sx_fbrq']) }}
