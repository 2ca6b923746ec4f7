-- Scope x ISO week: seats held (at the week's last day with data) versus seat holders active on
-- any day of the week (distinct, recomputed). Seats are those held by users; GitHub's own
-- total_seats of the snapshot is shown beside them.
with

utilisation_days as (

    select * from {{ ref('fct_copilot_seat_utilisation_daily') }}

),

seats as (

    -- seats held by users: null and Team-shaped assignees are no seat holders
    select * from {{ ref('int_seats_merged') }}
    where assignee_type = 'user'

),

seat_totals as (

    select * from {{ ref('stg_github_copilot__seat_totals') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

week_ends as (

    -- the snapshot of the last day with data in each week decides who held a seat that week
    select
        scope_type,
        scope_name,
        week_start,
        max(day) as last_day,
        arg_max(snapshot_day, day) as snapshot_day,
        bool_or(is_reconstructed) as is_reconstructed,
        count(*) as days_with_data
    from utilisation_days
    group by scope_type, scope_name, week_start

),

holders as (

    {{ seat_holders('week_ends', 'week_start', 'last_day') }}

),

weekly_active as (

    select distinct
        scope_type,
        scope_name,
        {{ iso_week_start('day') }} as week_start,
        user_id
    from member_days
    where is_active

),

holder_activity as (

    select
        holders.scope_type,
        holders.scope_name,
        holders.week_start,
        count(*) as seats,
        count(weekly_active.user_id) as active_seat_holders
    from holders
    left join weekly_active
        on
            holders.scope_type = weekly_active.scope_type
            and holders.scope_name = weekly_active.scope_name
            and holders.week_start = weekly_active.week_start
            and holders.user_id = weekly_active.user_id
    group by holders.scope_type, holders.scope_name, holders.week_start

),

final as (

    select
        week_ends.scope_type,
        week_ends.scope_name,
        week_ends.week_start,
        cast(week_ends.days_with_data as bigint) as days_with_data,
        week_ends.snapshot_day,
        week_ends.is_reconstructed,
        {{ seat_utilisation_columns() }},
        {{ safe_ratio('holder_activity.active_seat_holders', 'holder_activity.seats') }} as seat_utilisation_rate
    from week_ends
    left join holder_activity
        on
            week_ends.scope_type = holder_activity.scope_type
            and week_ends.scope_name = holder_activity.scope_name
            and week_ends.week_start = holder_activity.week_start
    left join seat_totals
        on
            week_ends.scope_type = seat_totals.scope_type
            and week_ends.scope_name = seat_totals.scope_name
            and week_ends.snapshot_day = seat_totals.snapshot_day

)

select * from final
