-- Member-days spent in a team: one row per scope, day, team and member of the daily user-teams
-- report, with that member-day's figures from the users report (activity, Copilot CLI and desktop
-- app use, AI credits). A member without a users record that day keeps null counters (sums skip
-- them) and false flags. A member in two teams has a row in each (team rows overlap by design).
with

team_members as (

    select * from {{ ref('int_team_members_daily') }}

),

activity as (

    select * from {{ ref('int_member_days_activity') }}

),

cli_app as (

    select * from {{ ref('int_member_days_cli_app') }}

),

final as (

    select
        team_members.scope_type,
        team_members.scope_name,
        team_members.day,
        {{ iso_week_start('team_members.day') }} as week_start,
        team_members.team_id,
        team_members.team_slug,
        team_members.user_id,
        coalesce(activity.is_active, false) as is_active,
        activity.user_initiated_interactions,
        activity.code_generations,
        activity.code_acceptances,
        activity.loc_suggested_to_add,
        activity.loc_added,
        coalesce(cli_app.used_cli, false) as used_cli,
        coalesce(cli_app.used_copilot_app, false) as used_copilot_app,
        cli_app.cli_sessions,
        cli_app.cli_requests,
        cli_app.cli_prompts,
        cli_app.app_sessions,
        cli_app.app_requests,
        cli_app.ai_credits_used
    from team_members
    left join activity
        on {{ keys_match('team_members', 'activity', ['scope_type', 'scope_name', 'day', 'user_id']) }}
    left join cli_app
        on {{ keys_match('team_members', 'cli_app', ['scope_type', 'scope_name', 'day', 'user_id']) }}

)

select * from final
