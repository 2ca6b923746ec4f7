-- Seats per scope, snapshot day and holder: a user's seat objects are merged into one row (an
-- enterprise listing carries one per granting org or team: earliest grant, latest activity), and
-- every seat object without a user assignee (null or Team-shaped) stays a row of its own, so
-- marts can show it without counting it as a member.
with

seat_objects as (

    select * from {{ ref('stg_github_copilot__seats') }}

),

keyed as (

    select
        *,
        case
            when assignee_type = 'user' then 'user:' || cast(user_id as varchar)
            else assignee_type || ':' || seat_object_id
        end as seat_key
    from seat_objects
    -- a user assignee without an id cannot be told apart from another: GitHub always sends one
    where assignee_type != 'user' or user_id is not null

),

final as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        seat_key,
        any_value(assignee_type) as assignee_type,
        max(user_id) as user_id,
        max(user_login) as user_login,
        max(assignee_team_id) as assignee_team_id,
        max(assignee_team_slug) as assignee_team_slug,
        arg_max(plan_type, created_at) as plan_type,
        min(created_at) as created_at,
        max(last_activity_at) as last_activity_at,
        arg_max(last_activity_editor, last_activity_at) as last_activity_editor,
        max(last_authenticated_at) as last_authenticated_at,
        -- the member keeps a seat while any of their seat objects is not being cancelled
        case
            when bool_and(pending_cancellation_date is not null) then max(pending_cancellation_date)
        end as pending_cancellation_date,
        count(*) as seat_objects,
        list(distinct assigning_team_slug order by assigning_team_slug)
        filter (where assigning_team_slug is not null) as assigning_team_slugs,
        max(_loaded_at) as _loaded_at
    from keyed
    group by scope_type, scope_name, snapshot_day, seat_key

)

select * from final
