with source as (
    select * from {{ source('landing_skeleton', 'skeleton_penalties') }}
),

final as (
    select
        batch_id,
        record_no,
        subject_name,
        subject_uscc,
        decision_date::date as decision_date,
        fine_wan_yuan::numeric(18, 6) as fine_wan_yuan
    from source
)

select * from final
