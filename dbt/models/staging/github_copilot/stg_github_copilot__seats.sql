-- Seat snapshots: one row per scope, snapshot day and assignee. An enterprise listing carries one
-- seat object per granting org or team; they are merged here (earliest grant, latest activity).
-- Seats without an assignee are left out (billing counts them).
with

source as (

    select * from {{ source('github_copilot', 'copilot_seats') }}

),

latest_load as (

    -- the newest load of each snapshot replaces older loads of the same snapshot day
    select * from source
    qualify _load_id = max_by(_load_id, _loaded_at) over (
            partition by scope_type, scope_name, snapshot_day
        )

),

seat_objects as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        coalesce(user_id, {{ json_bigint('record', '$.assignee.id') }}) as user_id,
        {{ json_varchar('record', '$.assignee.login') }} as user_login,
        {{ json_varchar('record', '$.plan_type') }} as plan_type,
        {{ json_timestamp('record', '$.created_at') }} as created_at,
        {{ json_timestamp('record', '$.last_activity_at') }} as last_activity_at,
        {{ json_varchar('record', '$.last_activity_editor') }} as last_activity_editor,
        {{ json_timestamp('record', '$.last_authenticated_at') }} as last_authenticated_at,
        {{ json_date('record', '$.pending_cancellation_date') }} as pending_cancellation_date,
        {{ json_varchar('record', '$.assigning_team.slug') }} as assigning_team_slug,
        {{ json_varchar('record', '$.organization.login') }} as organization_login,
        _loaded_at
    from latest_load

),

final as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        user_id,
        max(user_login) as user_login,
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
    from seat_objects
    where user_id is not null
    group by scope_type, scope_name, snapshot_day, user_id

)

select * from final
