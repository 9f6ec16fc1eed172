-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政确认信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_confirmation', ['qr_xdr_mc', 'qr_xdr_lb', 'qr_xdr_shxym', 'qr_xdr_gszc', 'qr_xdr_zzjg', 'qr_xdr_swdj', 'qr_xdr_sydw', 'qr_xdr_shzz', 'qr_frdb', 'qr_fr_zjlx', 'qr_fr_zjhm_hash', 'qr_fr_zjhm_masked', 'qr_xdr_zjlx', 'qr_xdr_zjhm_hash', 'qr_xdr_zjhm_masked', 'qr_wsh', 'qr_xwmc', 'qr_nr', 'qr_jdrq', 'qr_jg', 'qr_jgdm', 'qr_sjly', 'qr_sjlydm', 'bz']) }}
