-- Seat snapshots: one row per seat object of the newest load of each (scope, snapshot day), typed.
-- Every row is kept, whatever its assignee: assignee_type says whether the seat is held by a user
-- ('user': the assignee has a login), by a Team-shaped assignee of the older seat schema ('team':
-- id, slug, name, no login) or by nobody ('none': `assignee: null`). User columns are null unless
-- the assignee is a user. Timestamps carrying any UTC offset are read as the same UTC instant.
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

typed as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        case
            when {{ json_varchar('record', '$.assignee') }} is null then 'none'
            when {{ json_varchar('record', '$.assignee.login') }} is not null then 'user'
            else 'team'
        end as assignee_type,
        coalesce(user_id, {{ json_bigint('record', '$.assignee.id') }}) as assignee_id,
        {{ json_varchar('record', '$.assignee.login') }} as assignee_login,
        {{ json_varchar('record', '$.assignee.slug') }} as assignee_slug,
        {{ json_varchar('record', '$.plan_type') }} as plan_type,
        {{ json_timestamp('record', '$.created_at') }} as created_at,
        {{ json_timestamp('record', '$.last_activity_at') }} as last_activity_at,
        {{ json_varchar('record', '$.last_activity_editor') }} as last_activity_editor,
        {{ json_timestamp('record', '$.last_authenticated_at') }} as last_authenticated_at,
        {{ json_date('record', '$.pending_cancellation_date') }} as pending_cancellation_date,
        {{ json_varchar('record', '$.assigning_team.slug') }} as assigning_team_slug,
        {{ json_varchar('record', '$.organization.login') }} as organization_login,
        cast(record as varchar) as record_text,
        _load_id,
        _loaded_at
    from latest_load

),

final as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        assignee_type,
        plan_type,
        created_at,
        last_activity_at,
        last_activity_editor,
        last_authenticated_at,
        pending_cancellation_date,
        assigning_team_slug,
        organization_login,
        _load_id,
        _loaded_at,
        case when assignee_type = 'user' then assignee_id end as user_id,
        case when assignee_type = 'user' then assignee_login end as user_login,
        case when assignee_type = 'team' then assignee_id end as assignee_team_id,
        case when assignee_type = 'team' then assignee_slug end as assignee_team_slug,
        -- a seat object has no id of its own: its scope, snapshot, assignee and position among
        -- identical objects of the snapshot identify it
        md5(concat_ws(
            '|', scope_type, scope_name, cast(snapshot_day as varchar), assignee_type,
            cast(assignee_id as varchar), organization_login, assigning_team_slug,
            cast(row_number() over (
                partition by
                    scope_type, scope_name, snapshot_day, assignee_type, assignee_id,
                    organization_login, assigning_team_slug
                order by record_text
            ) as varchar)
        )) as seat_object_id
    from typed

)

select * from final
