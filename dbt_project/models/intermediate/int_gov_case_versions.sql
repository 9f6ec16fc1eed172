-- Every state a government dishonest-debtor case has had, as the platform received it: one row per change of
-- status, amount or dates. The case's state at each moment is the survivorship rule's winner among the copies
-- received by then (int_record_survivorship: the latest state date — 删除日期, else 化解日期 — then the state
-- first received last), so the last version here is the state fct_gov_dishonest_case shows, and a unit
-- forwarding an old state later neither reopens a case nor starts a version.
-- valid_from is when the platform first received that state, valid_to when the next state took over, so
-- history replayed later keeps its true dates; unit/batch/row are that first copy's (who reported the state,
-- not who repeated it).
with copies as (
    select
        natural_key_hash as case_key,
        compared_hash,
        zfsx_ah as case_no,
        zfsx_jgdm as agency_uscc,
        zfsx_jgmc as agency_name,
        zfsx_jglx as agency_type,
        zfsx_cj as agency_level,
        zfsx_qhdm as region_code,
        zfsx_zxfy as court,
        zfsx_zt as status,
        zfsx_qkje as amount_wan,
        zfsx_larq as filed_on,
        zfsx_lrrq as listed_on,
        zfsx_hjrq as resolved_on,
        zfsx_scrq as removed_on,
        coalesce(state_date, '-infinity'::date) as state_rank_date,
        received_at,
        unit_code,
        batch_id,
        row_no,
        md5(row(zfsx_zt, zfsx_qkje, zfsx_larq, zfsx_lrrq, zfsx_hjrq, zfsx_scrq)::text) as state_hash
    from {{ ref('stg_landing__gov_dishonest_debtor_case') }}
),

-- the survivorship rule's unit of comparison: the copies with the same compared values, from the first received
states as (
    select distinct on (case_key, compared_hash) *
    from copies
    order by case_key, compared_hash, received_at, batch_id, row_no
),

-- a state takes over when it arrives if no state received before it has a later state date
ranked as (
    select
        *,
        max(state_rank_date) over (partition by case_key order by received_at, batch_id, row_no
                                   rows between unbounded preceding and 1 preceding) as best_date_before
    from states
),

current_states as (
    select
        *,
        lag(state_hash) over (partition by case_key order by received_at, batch_id, row_no) as previous_state_hash
    from ranked
    where best_date_before is null or state_rank_date >= best_date_before
),

changes as (
    select * from current_states where previous_state_hash is distinct from state_hash
)

select
    case_key, case_no, agency_uscc, agency_name, agency_type, agency_level, region_code, court,
    status, amount_wan, filed_on, listed_on, resolved_on, removed_on,
    unit_code, batch_id, row_no,
    row_number() over (partition by case_key order by received_at, batch_id, row_no)::integer as version_no,
    received_at as valid_from,
    lead(received_at) over (partition by case_key order by received_at, batch_id, row_no) as valid_to
from changes
