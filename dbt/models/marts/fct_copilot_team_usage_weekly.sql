-- Scope x team x ISO week usage: activity of member-days spent in the team; team_members and
-- active_members are distinct members over the week (recomputed, never summed over days).
with

team_members as (

    select * from {{ ref('int_team_members_daily') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

joined as (

    select
        team_members.scope_type,
        team_members.scope_name,
        {{ iso_week_start('team_members.day') }} as week_start,
        team_members.day,
        team_members.team_id,
        team_members.team_slug,
        team_members.user_id,
        coalesce(member_days.is_active, false) as is_active,
        member_days.user_initiated_interactions,
        member_days.code_generations,
        member_days.code_acceptances,
        member_days.loc_suggested_to_add,
        member_days.loc_added
    from team_members
    left join member_days
        on
            team_members.scope_type = member_days.scope_type
            and team_members.scope_name = member_days.scope_name
            and team_members.day = member_days.day
            and team_members.user_id = member_days.user_id

),

final as (

    select
        scope_type,
        scope_name,
        week_start,
        team_id,
        arg_max(team_slug, day) as team_slug,
        cast(count(distinct day) as bigint) as days_with_data,
        cast(count(distinct user_id) as bigint) as team_members,
        cast(count(distinct user_id) filter (where is_active) as bigint) as active_members,
        cast(coalesce(sum(user_initiated_interactions), 0) as bigint) as user_initiated_interactions,
        cast(coalesce(sum(code_generations), 0) as bigint) as code_generations,
        cast(coalesce(sum(code_acceptances), 0) as bigint) as code_acceptances,
        {{ ratio_of_sums('code_acceptances', 'code_generations') }} as acceptance_rate,
        cast(coalesce(sum(loc_suggested_to_add), 0) as bigint) as loc_suggested_to_add,
        cast(coalesce(sum(loc_added), 0) as bigint) as loc_added
    from joined
    group by scope_type, scope_name, week_start, team_id

)

select * from final
