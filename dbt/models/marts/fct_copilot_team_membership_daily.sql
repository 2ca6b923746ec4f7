{{ incremental_day_config(on_schema_change='append_new_columns') }}

-- Scope x team x member x day: who was in which team on each day (user-teams-1-day). GitHub leaves
-- out teams with fewer than 5 seated Copilot users.
with

team_members as (

    select * from {{ ref('int_team_members_daily') }}

),

changes as (

    {{ days_loaded(['team_members']) }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        team_id,
        team_slug,
        user_id,
        {{ mart_login('user_login') }} as user_login,
        _loaded_at as last_loaded_at
    from team_members
    where day >= {{ incremental_start_day('changes') }}

)

select * from final
