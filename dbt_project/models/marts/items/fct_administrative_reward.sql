-- GENERATED from contracts/ by `credit-platform contracts generate` — do not edit by hand.
-- A test fails when this file is stale.
-- 行政奖励信息: one row per fact (golden record), rule in docs/warehouse.md.
-- Incremental: the facts the build's batches touch are replaced (macros/golden_record.sql).
-- depends_on: {{ ref('int_touched_keys') }}
{{ config(materialized='incremental', incremental_strategy='credit_golden', on_schema_change='append_new_columns', indexes=[{'columns': ['natural_key_hash'], 'unique': True}], pre_hook='{{ credit_prefer_hash_join() }}') }}
{{ golden_record('administrative_reward', ['jl_xdr_mc', 'jl_xdr_lb', 'jl_xdr_shxym', 'jl_xdr_gszc', 'jl_xdr_zzjg', 'jl_xdr_swdj', 'jl_xdr_sydw', 'jl_xdr_shzz', 'jl_frdb', 'jl_fr_zjlx', 'jl_fr_zjhm_hash', 'jl_fr_zjhm_masked', 'jl_xdr_zjlx', 'jl_xdr_zjhm_hash', 'jl_xdr_zjhm_masked', 'jl_wsh', 'jl_xwmc', 'jl_nr', 'jl_jdrq', 'jl_jg', 'jl_jgdm', 'jl_sjly', 'jl_sjlydm', 'bz']) }}
