-- Team membership as it was on each day: one row per scope, team, member and day
-- (from user-teams-1-day; teams with fewer than 5 seated members are not reported by GitHub).
with

user_teams as (

    select * from {{ ref('stg_github_copilot__user_teams') }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        team_id,
        team_slug,
        user_id,
        user_login,
        _loaded_at
    from user_teams

)

select * from final
