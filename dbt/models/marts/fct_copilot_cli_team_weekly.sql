-- Scope x team x ISO week Copilot CLI and desktop app use: member-days spent in the team (daily
-- user-teams report) with the same member-days of the users report (int_team_member_days). People
-- are distinct members over the week; a member in two teams counts in both (team rows overlap by
-- design).
with

team_member_days as (

    select * from {{ ref('int_team_member_days') }}

),

final as (

    select
        {{ team_week_columns() }},
        cast(count(distinct user_id) filter (where used_cli) as bigint) as cli_users,
        {{ summed_counters(['cli_sessions', 'cli_requests', 'cli_prompts'], zero_when_empty=true) }},
        cast(count(distinct user_id) filter (where used_copilot_app) as bigint) as app_users,
        {{ summed_counters(['app_sessions', 'app_requests'], zero_when_empty=true) }},
        cast(count(distinct user_id) filter (where used_cli or used_copilot_app) as bigint) as cli_or_app_users
    from team_member_days
    group by scope_type, scope_name, week_start, team_id

)

select * from final
