-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政检查信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_inspection', ['jc_xdr_mc', 'jc_xdr_lb', 'jc_xdr_shxym', 'jc_xdr_gszc', 'jc_xdr_zzjg', 'jc_xdr_swdj', 'jc_xdr_sydw', 'jc_xdr_shzz', 'jc_frdb', 'jc_fr_zjlx', 'jc_fr_zjhm_hash', 'jc_fr_zjhm_masked', 'jc_xdr_zjlx', 'jc_xdr_zjhm_hash', 'jc_xdr_zjhm_masked', 'jc_wsh', 'jc_xwmc', 'jc_nr', 'jc_jdrq', 'jc_jg', 'jc_jgdm', 'jc_sjly', 'jc_sjlydm', 'bz']) }}
