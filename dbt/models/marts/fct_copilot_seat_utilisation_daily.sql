-- Scope x day: seats versus members active that day. Seat holders on a day come from the latest
-- seats snapshot taken on or before it; days before the first snapshot are reconstructed from the
-- first snapshot (seats granted on or before the day, is_reconstructed = true). Seats are those held
-- by users; GitHub's own total_seats of the snapshot is shown beside them.
with

usage_days as (

    select * from {{ ref('fct_copilot_usage_daily') }}

),

seat_rows as (

    select * from {{ ref('int_seats_merged') }}

),

seat_totals as (

    select * from {{ ref('stg_github_copilot__seat_totals') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

seats as (

    -- seats held by users: null and Team-shaped assignees are no seat holders
    select * from seat_rows
    where assignee_type = 'user'

),

snapshots as (

    select * from {{ ref('int_seat_snapshot_days') }}

),

day_snapshot as (

    -- the snapshot each usage day reads: the latest on or before it, else the first one
    select
        usage_days.scope_type,
        usage_days.scope_name,
        usage_days.day,
        coalesce(
            max(snapshots.snapshot_day) filter (where snapshots.snapshot_day <= usage_days.day),
            min(snapshots.snapshot_day)
        ) as snapshot_day
    from usage_days
    inner join snapshots
        on
            usage_days.scope_type = snapshots.scope_type
            and usage_days.scope_name = snapshots.scope_name
    where usage_days.source_api = 'usage_metrics'
    group by usage_days.scope_type, usage_days.scope_name, usage_days.day

),

holders as (

    {{ seat_holders(
        'day_snapshot', 'day', 'day',
        extra_columns=['day_snapshot.snapshot_day > day_snapshot.day as is_reconstructed']
    ) }}

),

holder_activity as (

    select
        holders.scope_type,
        holders.scope_name,
        holders.day,
        bool_or(holders.is_reconstructed) as is_reconstructed,
        count(*) as seats,
        count(*) filter (where coalesce(member_days.is_active, false)) as active_seat_holders
    from holders
    left join member_days
        on
            holders.scope_type = member_days.scope_type
            and holders.scope_name = member_days.scope_name
            and holders.day = member_days.day
            and holders.user_id = member_days.user_id
    group by holders.scope_type, holders.scope_name, holders.day

),

active_members as (

    select
        scope_type,
        scope_name,
        day,
        count(distinct user_id) filter (where is_active) as active_members
    from member_days
    group by scope_type, scope_name, day

),

final as (

    select
        {{ scope_day_columns('day_snapshot') }},
        day_snapshot.snapshot_day,
        {{ seat_utilisation_columns() }},
        cast(coalesce(active_members.active_members, 0) as bigint) as active_members,
        cast(
            coalesce(active_members.active_members, 0) - coalesce(holder_activity.active_seat_holders, 0) as bigint
        ) as active_members_without_seat,
        coalesce(holder_activity.is_reconstructed, day_snapshot.snapshot_day > day_snapshot.day) as is_reconstructed,
        {{ safe_ratio('holder_activity.active_seat_holders', 'holder_activity.seats') }} as seat_utilisation_rate
    from day_snapshot
    left join holder_activity
        on
            day_snapshot.scope_type = holder_activity.scope_type
            and day_snapshot.scope_name = holder_activity.scope_name
            and day_snapshot.day = holder_activity.day
    left join active_members
        on
            day_snapshot.scope_type = active_members.scope_type
            and day_snapshot.scope_name = active_members.scope_name
            and day_snapshot.day = active_members.day
    left join seat_totals
        on
            day_snapshot.scope_type = seat_totals.scope_type
            and day_snapshot.scope_name = seat_totals.scope_name
            and day_snapshot.snapshot_day = seat_totals.snapshot_day

)

select * from final
