-- /copilot/billing snapshots: one row per scope and snapshot day.
with

deduped as (

    {{ latest_source_rows('copilot_billing', ['scope_type', 'scope_name', 'snapshot_day']) }}

),

final as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        {{ json_bigint('record', '$.seat_breakdown.total') }} as seats_total,
        {{ json_bigint('record', '$.seat_breakdown.added_this_cycle') }} as seats_added_this_cycle,
        {{ json_bigint('record', '$.seat_breakdown.pending_cancellation') }} as seats_pending_cancellation,
        {{ json_bigint('record', '$.seat_breakdown.pending_invitation') }} as seats_pending_invitation,
        {{ json_bigint('record', '$.seat_breakdown.active_this_cycle') }} as seats_active_this_cycle,
        {{ json_bigint('record', '$.seat_breakdown.inactive_this_cycle') }} as seats_inactive_this_cycle,
        {{ json_varchar('record', '$.plan_type') }} as plan_type,
        {{ json_varchar('record', '$.seat_management_setting') }} as seat_management_setting,
        {{ json_varchar('record', '$.public_code_suggestions') }} as public_code_suggestions,
        {{ json_varchar('record', '$.ide_chat') }} as ide_chat,
        {{ json_varchar('record', '$.platform_chat') }} as platform_chat,
        {{ json_varchar('record', '$.cli') }} as cli,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
