-- Every state a government dishonest-debtor case has had, as the platform received it: one row per change of
-- status, amount or dates (a repeat of the same state by another batch or unit is not a new version).
-- valid_from is when the platform received that state (received_at), valid_to when it received the next one,
-- so history replayed later keeps its true dates.
with copies as (
    select
        natural_key_hash as case_key,
        zfsx_ah as case_no,
        zfsx_jgdm as agency_uscc,
        zfsx_zt as status,
        zfsx_qkje as amount_wan,
        zfsx_larq as filed_on,
        zfsx_lrrq as listed_on,
        zfsx_hjrq as resolved_on,
        zfsx_scrq as removed_on,
        received_at,
        unit_code,
        batch_id,
        row_no,
        md5(row(zfsx_zt, zfsx_qkje, zfsx_larq, zfsx_lrrq, zfsx_hjrq, zfsx_scrq)::text) as state_hash
    from {{ ref('stg_landing__gov_dishonest_debtor_case') }}
),

ordered as (
    select
        *,
        lag(state_hash) over (partition by case_key order by received_at, batch_id, row_no) as previous_state_hash
    from copies
),

changes as (
    select * from ordered where previous_state_hash is distinct from state_hash
)

select
    case_key, case_no, agency_uscc, status, amount_wan, filed_on, listed_on, resolved_on, removed_on,
    unit_code, batch_id, row_no,
    row_number() over (partition by case_key order by received_at, batch_id, row_no)::integer as version_no,
    received_at as valid_from,
    lead(received_at) over (partition by case_key order by received_at, batch_id, row_no) as valid_to
from changes
