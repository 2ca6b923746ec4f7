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
        {{ team_week_columns() }},
        cast(count(distinct user_id) filter (where ai_credits_used > 0) as bigint) as members_with_credits,
        {{ ai_credit_cost_columns() }}
    from team_member_days
    group by scope_type, scope_name, week_start, team_id

)

select * from final
