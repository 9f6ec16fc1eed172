-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政征收信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_levy', ['zs_xdr_mc', 'zs_xdr_lb', 'zs_xdr_shxym', 'zs_xdr_gszc', 'zs_xdr_zzjg', 'zs_xdr_swdj', 'zs_xdr_sydw', 'zs_xdr_shzz', 'zs_frdb', 'zs_fr_zjlx', 'zs_fr_zjhm_hash', 'zs_fr_zjhm_masked', 'zs_xdr_zjlx', 'zs_xdr_zjhm_hash', 'zs_xdr_zjhm_masked', 'zs_wsh', 'zs_xwmc', 'zs_nr', 'zs_jdrq', 'zs_jg', 'zs_jgdm', 'zs_sjly', 'zs_sjlydm', 'bz']) }}
