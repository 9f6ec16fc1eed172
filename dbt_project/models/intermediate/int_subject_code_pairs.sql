-- Evidence for linking a 工商注册号 (kind 'reg') or an 组织机构代码 (kind 'org') to a USCC: every distinct
-- (code, USCC) pair any copy carries. A code links to a USCC when it pairs with exactly one.
-- Incremental: the build's new pairs (int_new_code_pairs) are appended.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['kind', 'code']}]) }}
select kind, code, uscc from {{ ref('int_new_code_pairs') }}
