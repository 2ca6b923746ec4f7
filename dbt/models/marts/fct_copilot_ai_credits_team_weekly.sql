-- Scope x team x ISO week AI credits: member-days spent in the team (daily user-teams report)
-- with the same member-days of the users report (int_team_member_days). A member in two teams
-- counts in both (team rows overlap by design and do not add up to the scope's total). Estimated
-- cost at the configured price per credit (an estimate, not the invoice).
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
        cast(count(distinct user_id) filter (where ai_credits_used > 0) as bigint) as members_with_credits,
        {{ exact_sum('ai_credits_used') }} as ai_credits_used,
        {{ price_per_ai_credit_usd() }} as price_per_ai_credit_usd,
        {{ estimated_cost_usd_of_sum('ai_credits_used') }} as estimated_cost_usd
    from team_member_days
    group by scope_type, scope_name, week_start, team_id

)

select * from final
