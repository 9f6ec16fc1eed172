-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政许可信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_license', ['xk_xdr_mc', 'xk_xdr_lb', 'xk_xdr_shxym', 'xk_xdr_gszc', 'xk_xdr_zzjg', 'xk_xdr_swdj', 'xk_xdr_sydw', 'xk_xdr_shzz', 'xk_frdb', 'xk_fr_zjlx', 'xk_fr_zjhm_hash', 'xk_fr_zjhm_masked', 'xk_xdr_zjlx', 'xk_xdr_zjhm_hash', 'xk_xdr_zjhm_masked', 'xk_xkws', 'xk_wsh', 'xk_xklb', 'xk_xkzs', 'xk_xkbh', 'xk_nr', 'xk_jdrq', 'xk_yxqz', 'xk_yxqzi', 'xk_xkjg', 'xk_xkjgdm', 'xk_lydw', 'xk_lydwdm', 'bz']) }}
