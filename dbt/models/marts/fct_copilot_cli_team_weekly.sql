-- Scope x team x ISO week Copilot CLI and desktop app use: member-days spent in the team (daily
-- user-teams report) joined to the same member-days of the users report. People are distinct
-- members over the week; a member in two teams counts in both (team rows overlap by design).
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
        member_days.cli_sessions,
        member_days.cli_requests,
        member_days.cli_prompts,
        member_days.app_sessions,
        member_days.app_requests,
        coalesce(member_days.used_cli, false) as used_cli,
        coalesce(member_days.used_copilot_app, false) as used_copilot_app
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
    from joined
    group by scope_type, scope_name, week_start, team_id

)

select * from final
