-- depends_on: {{ ref('int_profile_scope') }}
-- 信用档案: one row per subject — its records by category and by item, the latest severe-dishonesty
-- status, active penalties and, for government agencies, the dishonest-debtor case status. Every number is
-- traceable: fct_subject_records lists the facts (item + natural_key_hash) behind it.
-- Incremental: the subjects of int_profile_scope are deleted and profiled again.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          indexes=[{'columns': ['subject_key']}, {'columns': ['next_change_on']}],
          pre_hook=["{{ credit_no_nested_loops() }}",
                    "{% if is_incremental() %}delete from {{ this }} where subject_key
                    {{ credit_in_keys('select subject_key from ' ~ ref('int_profile_scope')) }}{% endif %}"]) }}
{% set in_scope = ("in (select subject_key from " ~ ref('int_profile_scope') ~ ")") if is_incremental() else none %}
{# the subject-keyed tables as an index scan over the scope's sorted keys: `in` would hash-join a scan of the
   whole history (the planner expects ten rows from the array: credit_no_nested_loops keeps it from looping over
   the day's 100k subjects for each of them) #}
{% set in_scope_keys = credit_in_keys('select subject_key from ' ~ ref('int_profile_scope')) %}
with recs as (
    select subject_key, item_code, category, active_until
    from {{ ref('fct_subject_records') }}
    where is_attributed {% if in_scope %}and subject_key {{ in_scope_keys }}{% endif %}
),

by_category as (
    select subject_key, jsonb_object_agg(category, n order by category) as records_by_category
    from (select subject_key, category, count(*) as n from recs group by 1, 2) x
    group by 1
),

by_item as (
    select subject_key, jsonb_object_agg(item_code, n order by item_code) as records_by_item,
           sum(n)::integer as records_total
    from (select subject_key, item_code, count(*) as n from recs group by 1, 2) x
    group by 1
),

severe as (
    select
        subject_key,
        count(*) filter (where is_active_today)::integer as severe_active,
        (array_agg(listing_kind order by identified_on desc, document_no))[1] as severe_latest_kind,
        max(identified_on) as severe_latest_on,
        bool_or(is_active_today) as severe_is_active,
        -- the day is_active_today next changes: a listing starts, or its validity passes
        least(min(identified_on) filter (where identified_on > {{ credit_today() }}),
              min(valid_until) filter (where valid_until >= {{ credit_today() }}) + 1) as severe_change_on
    from {{ ref('fct_severe_dishonesty') }}
    {% if in_scope %}where subject_key {{ in_scope }}{% endif %}
    group by 1
),

-- active_until: the penalty's 公示截止期, else its 有效期 (the subject bridge carries it)
penalties as (
    select subject_key, count(*)::integer as active_penalties,
           min(active_until) + 1 as penalty_change_on  -- the day one stops being active
    from recs
    where item_code = 'administrative_penalty' and (active_until is null or active_until >= {{ credit_today() }})
    group by 1
),

gov_cases as (
    select 'U:' || agency_uscc as subject_key,
           count(*) filter (where not is_resolved)::integer as gov_cases_open,
           count(*) filter (where is_resolved)::integer as gov_cases_resolved,
           sum(amount_wan) filter (where not is_resolved)::numeric(18, 6) as gov_cases_open_amount_wan
    from {{ ref('fct_gov_dishonest_case') }}
    {% if in_scope %}where 'U:' || agency_uscc {{ in_scope }}{% endif %}
    group by 1
)

select
    d.subject_key,
    d.subject_kind,
    d.name,
    d.uscc,
    d.person_id_masked,
    d.region_code,
    coalesce(i.records_total, 0) as records_total,
    coalesce(c.records_by_category, '{}'::jsonb) as records_by_category,
    coalesce(i.records_by_item, '{}'::jsonb) as records_by_item,
    case when sv.severe_is_active then '在列' when sv.subject_key is not null then '已届满' else '无' end
        as severe_status,
    coalesce(sv.severe_active, 0) as severe_active_listings,
    sv.severe_latest_kind,
    sv.severe_latest_on,
    coalesce(p.active_penalties, 0) as active_penalties,
    coalesce(g.gov_cases_open, 0) as gov_cases_open,
    coalesce(g.gov_cases_resolved, 0) as gov_cases_resolved,
    g.gov_cases_open_amount_wan,
    d.last_received_at,
    least(p.penalty_change_on, sv.severe_change_on) as next_change_on
from {{ ref('dim_subject') }} d
left join by_item i on i.subject_key = d.subject_key
left join by_category c on c.subject_key = d.subject_key
left join severe sv on sv.subject_key = d.subject_key
left join penalties p on p.subject_key = d.subject_key
left join gov_cases g on g.subject_key = d.subject_key
{% if in_scope %}where d.subject_key {{ in_scope_keys }}{% endif %}
