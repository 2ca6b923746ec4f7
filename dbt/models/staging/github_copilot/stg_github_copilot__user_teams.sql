-- user-teams-1-day: one row per scope, day, user and team (teams with fewer than 5 seated users
-- are left out by GitHub).
with

source as (

    select * from {{ source('github_copilot', 'copilot_user_teams') }}

),

deduped as (

    select * from source
    {{ dedupe_latest(['scope_type', 'scope_name', 'day', 'user_id', 'team_id']) }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        user_id,
        team_id,
        {{ json_varchar('record', '$.user_login') }} as user_login,
        coalesce({{ json_varchar('record', '$.slug') }}, {{ json_varchar('record', '$.team_slug') }}) as team_slug,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
