-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政补偿信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_compensation', ['bc_xdr_mc', 'bc_xdr_lb', 'bc_xdr_shxym', 'bc_xdr_gszc', 'bc_xdr_zzjg', 'bc_xdr_swdj', 'bc_xdr_sydw', 'bc_xdr_shzz', 'bc_frdb', 'bc_fr_zjlx', 'bc_fr_zjhm_hash', 'bc_fr_zjhm_masked', 'bc_xdr_zjlx', 'bc_xdr_zjhm_hash', 'bc_xdr_zjhm_masked', 'bc_wsh', 'bc_xwmc', 'bc_nr', 'bc_jdrq', 'bc_jg', 'bc_jgdm', 'bc_sjly', 'bc_sjlydm', 'bz']) }}
