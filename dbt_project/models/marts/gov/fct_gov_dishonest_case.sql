-- 政府机构失信被执行人: one row per case (案号 + debtor agency USCC) in its current state — the survivorship
-- rule's winner among every unit's copies (the latest state date, else the state received last); when and from
-- whom the platform first received that state is the case history's current version.
select
    g.natural_key_hash as case_key,
    g.zfsx_ah as case_no,
    g.zfsx_jgdm as agency_uscc,
    g.zfsx_jgmc as agency_name,
    g.zfsx_jglx as agency_type,
    g.zfsx_cj as agency_level,
    g.zfsx_qhdm as region_code,
    left(g.zfsx_qhdm, 4) || '00' as city_code,
    g.zfsx_zxfy as court,
    g.zfsx_sxqx as conduct,
    g.zfsx_qkje as amount_wan,
    g.zfsx_zt as status,
    g.zfsx_zt in ('已履行', '已和解', '已删除') as is_resolved,
    g.zfsx_larq as filed_on,
    g.zfsx_lrrq as listed_on,
    g.zfsx_hjrq as resolved_on,
    g.zfsx_scrq as removed_on,
    g.zfsx_pc as campaign_batch,
    v.versions,
    v.valid_from as state_received_at,
    g.first_received_at,
    v.unit_code as state_unit_code,
    v.batch_id as state_batch_id,
    g.copies
from {{ ref('fct_gov_dishonest_debtor_case') }} g
join (
    select
        case_key,
        count(*)::integer as versions,
        max(valid_from) as valid_from,
        max(unit_code) filter (where valid_to is null) as unit_code,
        max(batch_id) filter (where valid_to is null) as batch_id
    from {{ ref('int_gov_case_versions') }}
    group by case_key
) v on v.case_key = g.natural_key_hash
