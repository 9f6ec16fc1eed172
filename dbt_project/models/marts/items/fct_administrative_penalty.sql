-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政处罚信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_penalty', ['cf_xdr_mc', 'cf_xdr_lb', 'cf_xdr_shxym', 'cf_xdr_gszc', 'cf_xdr_zzjg', 'cf_xdr_swdj', 'cf_xdr_sydw', 'cf_xdr_shzz', 'cf_frdb', 'cf_fr_zjlx', 'cf_fr_zjhm_hash', 'cf_fr_zjhm_masked', 'cf_xdr_zjlx', 'cf_xdr_zjhm_hash', 'cf_xdr_zjhm_masked', 'cf_wsh', 'cf_wfxw', 'cf_sy', 'cf_yj', 'cf_cflb', 'cf_nr', 'cf_nr_fk', 'cf_nr_wfff', 'cf_nr_zkdx', 'cf_jdrq', 'cf_yxq', 'cf_gsjzq', 'cf_cfjg', 'cf_cfjgdm', 'cf_sjly', 'cf_sjlydm', 'bz']) }}
