-- Scope x team x ISO week usage: activity of member-days spent in the team; team_members and
-- active_members are distinct members over the week (recomputed, never summed over days).
with

team_member_days as (

    select * from {{ ref('int_team_member_days') }}

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
    from team_member_days
    group by scope_type, scope_name, week_start, team_id

)

select * from final
