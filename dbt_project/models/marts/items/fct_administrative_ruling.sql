-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政裁决信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_ruling', ['cj_xdr_mc', 'cj_xdr_lb', 'cj_xdr_shxym', 'cj_xdr_gszc', 'cj_xdr_zzjg', 'cj_xdr_swdj', 'cj_xdr_sydw', 'cj_xdr_shzz', 'cj_frdb', 'cj_fr_zjlx', 'cj_fr_zjhm_hash', 'cj_fr_zjhm_masked', 'cj_xdr_zjlx', 'cj_xdr_zjhm_hash', 'cj_xdr_zjhm_masked', 'cj_wsh', 'cj_xwmc', 'cj_nr', 'cj_jdrq', 'cj_jg', 'cj_jgdm', 'cj_sjly', 'cj_sjlydm', 'bz']) }}
