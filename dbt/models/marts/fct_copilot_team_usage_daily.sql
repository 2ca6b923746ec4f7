{{ incremental_day_config(on_schema_change='append_new_columns') }}

-- Scope x team x day usage: each member counts in the teams they were in on that day; member
-- counts are distinct users per team and day (a member of two teams counts in both teams, once
-- in each; team rows are never summed into scope totals).
with

team_members as (

    select * from {{ ref('int_team_members_daily') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

changes as (

    {{ days_loaded(['team_members', 'member_days']) }}

),

joined as (

    select
        team_members.scope_type,
        team_members.scope_name,
        team_members.day,
        team_members.team_id,
        team_members.team_slug,
        team_members.user_id,
        member_days.user_initiated_interactions,
        member_days.code_generations,
        member_days.code_acceptances,
        member_days.loc_suggested_to_add,
        member_days.loc_added,
        coalesce(member_days.is_active, false) as is_active,
        greatest(team_members._loaded_at, coalesce(member_days._loaded_at, team_members._loaded_at)) as _loaded_at
    from team_members
    left join member_days
        on
            team_members.scope_type = member_days.scope_type
            and team_members.scope_name = member_days.scope_name
            and team_members.day = member_days.day
            and team_members.user_id = member_days.user_id
    where team_members.day >= {{ incremental_start_day('changes') }}

),

final as (

    select
        {{ scope_day_columns() }},
        team_id,
        max(team_slug) as team_slug,
        cast(count(distinct user_id) as bigint) as team_members,
        {{ team_usage_columns() }},
        max(_loaded_at) as last_loaded_at
    from joined
    group by scope_type, scope_name, day, team_id

)

select * from final
