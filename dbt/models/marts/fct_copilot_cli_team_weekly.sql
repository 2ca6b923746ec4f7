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
        scope_type,
        scope_name,
        week_start,
        team_id,
        cast(count(distinct day) as bigint) as days_with_data,
        cast(count(distinct user_id) as bigint) as team_members,
        cast(count(distinct user_id) filter (where used_cli) as bigint) as cli_users,
        cast(coalesce(sum(cli_sessions), 0) as bigint) as cli_sessions,
        cast(coalesce(sum(cli_requests), 0) as bigint) as cli_requests,
        cast(coalesce(sum(cli_prompts), 0) as bigint) as cli_prompts,
        cast(count(distinct user_id) filter (where used_copilot_app) as bigint) as app_users,
        cast(coalesce(sum(app_sessions), 0) as bigint) as app_sessions,
        cast(coalesce(sum(app_requests), 0) as bigint) as app_requests,
        cast(count(distinct user_id) filter (where used_cli or used_copilot_app) as bigint) as cli_or_app_users,
        arg_max(team_slug, day) as team_slug
    from team_member_days
    group by scope_type, scope_name, week_start, team_id

)

select * from final
