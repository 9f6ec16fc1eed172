-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政强制信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_coercion', ['qz_xdr_mc', 'qz_xdr_lb', 'qz_xdr_shxym', 'qz_xdr_gszc', 'qz_xdr_zzjg', 'qz_xdr_swdj', 'qz_xdr_sydw', 'qz_xdr_shzz', 'qz_frdb', 'qz_fr_zjlx', 'qz_fr_zjhm_hash', 'qz_fr_zjhm_masked', 'qz_xdr_zjlx', 'qz_xdr_zjhm_hash', 'qz_xdr_zjhm_masked', 'qz_wsh', 'qz_xwmc', 'qz_nr', 'qz_jdrq', 'qz_jg', 'qz_jgdm', 'qz_sjly', 'qz_sjlydm', 'bz']) }}
