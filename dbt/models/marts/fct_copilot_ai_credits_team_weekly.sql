-- Scope x team x ISO week AI credits: member-days spent in the team (daily user-teams report)
-- joined to the same member-days of the users report. A member in two teams counts in both
-- (team rows overlap by design and do not add up to the scope's total). Estimated cost at the
-- configured price per credit (an estimate, not the invoice).
with

team_members as (

    select * from {{ ref('int_team_members_daily') }}

),

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

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
        member_days.ai_credits_used
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
        cast(count(distinct user_id) filter (where ai_credits_used > 0) as bigint) as members_with_credits,
        {{ exact_sum('ai_credits_used') }} as ai_credits_used,
        {{ price_per_ai_credit_usd() }} as price_per_ai_credit_usd,
        {{ exact_sum('ai_credits_used') }} * {{ price_per_ai_credit_usd() }} as estimated_cost_usd
    from joined
    group by scope_type, scope_name, week_start, team_id

)

select * from final
