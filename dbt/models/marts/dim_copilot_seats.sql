-- The latest seat snapshot per scope x seat holder (seats API), with inactivity flags. A user's
-- seat objects are one row; a seat object without a user assignee (null, or Team-shaped in the
-- older seat schema) stays a row of its own with assignee_type 'none' or 'team' and null user
-- columns: it counts as no member, no inactive and no never-used seat.
with

seats as (

    select * from {{ ref('int_seats_merged') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

latest_snapshot_days as (

    select * from {{ ref('int_seat_snapshot_days') }}
    where is_latest

),

latest_snapshot as (

    select seats.*
    from seats
    inner join latest_snapshot_days
        on
            seats.scope_type = latest_snapshot_days.scope_type
            and seats.scope_name = latest_snapshot_days.scope_name
            and seats.snapshot_day = latest_snapshot_days.snapshot_day

),

last_active as (

    select
        scope_type,
        scope_name,
        user_id,
        max(day) filter (where is_active) as last_active_day
    from member_days
    group by scope_type, scope_name, user_id

),

data_end as (

    -- the last day of per-user data per scope: "the last 28 days" are counted back from it
    select
        scope_type,
        scope_name,
        max(day) as last_data_day
    from member_days
    group by scope_type, scope_name

),

final as (

    select
        latest_snapshot.scope_type,
        latest_snapshot.scope_name,
        latest_snapshot.seat_key,
        latest_snapshot.assignee_type,
        latest_snapshot.user_id,
        {{ mart_login('latest_snapshot.user_login') }} as user_login,
        latest_snapshot.assignee_team_slug,
        latest_snapshot.snapshot_day,
        latest_snapshot.plan_type,
        latest_snapshot.created_at,
        latest_snapshot.last_activity_at,
        latest_snapshot.last_activity_editor,
        latest_snapshot.last_authenticated_at,
        last_active.last_active_day,
        cast(
            latest_snapshot.snapshot_day - cast(latest_snapshot.last_activity_at as date) as bigint
        ) as days_since_last_activity,
        (
            latest_snapshot.assignee_type = 'user'
            and latest_snapshot.last_activity_at is null
            and last_active.last_active_day is null
        ) as is_never_used,
        case
            when latest_snapshot.assignee_type != 'user' then false
            when data_end.last_data_day is not null
                then coalesce(
                        last_active.last_active_day
                        <= data_end.last_data_day - {{ var('inactive_seat_days', 28) }},
                        true
                    )
            else coalesce(
                    cast(latest_snapshot.last_activity_at as date)
                    <= latest_snapshot.snapshot_day - {{ var('inactive_seat_days', 28) }},
                    true
                )
        end as is_inactive_seat,
        latest_snapshot.pending_cancellation_date,
        latest_snapshot.pending_cancellation_date is not null as is_pending_cancellation,
        cast(latest_snapshot.seat_objects as bigint) as seat_objects
    from latest_snapshot
    left join last_active
        on
            latest_snapshot.scope_type = last_active.scope_type
            and latest_snapshot.scope_name = last_active.scope_name
            and latest_snapshot.user_id = last_active.user_id
    left join data_end
        on
            latest_snapshot.scope_type = data_end.scope_type
            and latest_snapshot.scope_name = data_end.scope_name

)

select * from final
