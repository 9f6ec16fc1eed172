-- Severe dishonesty identifications (认定): 严重失信主体名单, 严重政务失信, 严重司法失信 — the identifying body,
-- basis, conduct, penalties and validity; a listing is active on a day D when identified on or before D and
-- not past its 有效期至. (The catalog has no removal / 信用修复 record yet: a listing ends by its validity.)
with listings as (
    select 'serious_dishonesty_list'::text as item_code, natural_key_hash, yz_mdlb as listing_kind,
           yz_ztmc as subject_name, yz_rdwsh as document_no, yz_rdjg as identifying_body,
           yz_rdjgdm as identifying_body_uscc, yz_rdyj as basis, yz_sxxw as conduct, null::text as penalties,
           yz_rdrq as identified_on, yz_yxqz as valid_until, winning_unit_code
    from {{ ref('fct_serious_dishonesty_list') }}
    union all
    select 'serious_gov_dishonesty', natural_key_hash, '严重政务失信', zwsx_ztmc, zwsx_rdwsh, zwsx_rdjg,
           zwsx_rdjgdm, zwsx_rdyj, zwsx_sxxw, zwsx_cjcs, zwsx_rdrq, zwsx_yxqz, winning_unit_code
    from {{ ref('fct_serious_gov_dishonesty') }}
    union all
    select 'serious_judicial_dishonesty', natural_key_hash, '严重司法失信', sfsx_ztmc, sfsx_rdwsh, sfsx_rdjg,
           sfsx_rdjgdm, sfsx_rdyj, sfsx_sxxw, sfsx_cjcs, sfsx_rdrq, sfsx_yxqz, winning_unit_code
    from {{ ref('fct_serious_judicial_dishonesty') }}
)

select
    l.item_code,
    l.natural_key_hash,
    s.subject_key,
    l.listing_kind,
    l.subject_name,
    l.document_no,
    l.identifying_body,
    l.identifying_body_uscc,
    l.basis,
    l.conduct,
    l.penalties,
    l.identified_on,
    l.valid_until,
    l.identified_on <= {{ credit_today() }} and (l.valid_until is null or l.valid_until >= {{ credit_today() }}) as is_active_today,
    case when l.valid_until < {{ credit_today() }} then '有效期届满' end as ended_by,
    l.winning_unit_code
from listings l
join {{ ref('int_golden_subjects') }} s on s.item_code = l.item_code and s.natural_key_hash = l.natural_key_hash
