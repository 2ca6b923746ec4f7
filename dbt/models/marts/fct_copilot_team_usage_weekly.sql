-- Scope x team x ISO week usage: activity of member-days spent in the team; team_members and
-- active_members are distinct members over the week (recomputed, never summed over days).
with

team_member_days as (

    select * from {{ ref('int_team_member_days') }}

),

final as (

    select
        {{ team_week_columns() }},
        {{ team_usage_columns() }}
    from team_member_days
    group by scope_type, scope_name, week_start, team_id

)

select * from final
