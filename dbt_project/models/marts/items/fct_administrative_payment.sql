-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政给付信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_payment', ['gf_xdr_mc', 'gf_xdr_lb', 'gf_xdr_shxym', 'gf_xdr_gszc', 'gf_xdr_zzjg', 'gf_xdr_swdj', 'gf_xdr_sydw', 'gf_xdr_shzz', 'gf_frdb', 'gf_fr_zjlx', 'gf_fr_zjhm_hash', 'gf_fr_zjhm_masked', 'gf_xdr_zjlx', 'gf_xdr_zjhm_hash', 'gf_xdr_zjhm_masked', 'gf_wsh', 'gf_xwmc', 'gf_nr', 'gf_jdrq', 'gf_jg', 'gf_jgdm', 'gf_sjly', 'gf_sjlydm', 'bz']) }}
