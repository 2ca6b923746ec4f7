-- Scope x ISO week (Monday start, UTC) Copilot CLI and desktop app activity: counters summed over
-- the week's days, tokens per request as a ratio of the week's sums, and people as distinct
-- members over the week from the users report (never a sum of daily counts).
with

cli_days as (

    select * from {{ ref('fct_copilot_cli_daily') }}

),

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

),

weekly_counters as (

    select
        scope_type,
        scope_name,
        week_start,
        cast(count(distinct day) as bigint) as days_with_data,
        cast(max(daily_active_cli_users) as bigint) as peak_daily_active_cli_users,
        {{ summed_counters(cli_app_counters('cli')) }},
        {{ ratio_of_sums('cli_output_tokens + cli_prompt_tokens', 'cli_requests') }} as cli_tokens_per_request,
        cast(max(daily_active_copilot_app_users) as bigint) as peak_daily_active_copilot_app_users,
        {{ summed_counters(cli_app_counters('app')) }},
        {{ ratio_of_sums('app_output_tokens + app_prompt_tokens', 'app_requests') }} as app_tokens_per_request
    from cli_days
    group by scope_type, scope_name, week_start

),

weekly_members as (

    select
        scope_type,
        scope_name,
        week_start,
        cast(count(distinct day) as bigint) as days_with_users_report,
        cast(count(distinct user_id) filter (where used_cli) as bigint) as cli_users,
        cast(count(distinct user_id) filter (where used_copilot_app) as bigint) as app_users,
        cast(count(distinct user_id) filter (where used_cli or used_copilot_app) as bigint) as cli_or_app_users
    from member_days
    group by scope_type, scope_name, week_start

),

final as (

    select
        weekly_counters.scope_type,
        weekly_counters.scope_name,
        weekly_counters.week_start,
        weekly_counters.days_with_data,
        cast(coalesce(weekly_members.days_with_users_report, 0) as bigint) as days_with_users_report,
        weekly_counters.peak_daily_active_cli_users,
        weekly_members.cli_users,
        weekly_counters.cli_sessions,
        weekly_counters.cli_requests,
        weekly_counters.cli_prompts,
        weekly_counters.cli_output_tokens,
        weekly_counters.cli_prompt_tokens,
        weekly_counters.cli_tokens_per_request,
        weekly_counters.peak_daily_active_copilot_app_users,
        weekly_members.app_users,
        weekly_counters.app_sessions,
        weekly_counters.app_requests,
        weekly_counters.app_prompts,
        weekly_counters.app_output_tokens,
        weekly_counters.app_prompt_tokens,
        weekly_counters.app_tokens_per_request,
        weekly_members.cli_or_app_users
    from weekly_counters
    left join weekly_members
        on
            weekly_counters.scope_type = weekly_members.scope_type
            and weekly_counters.scope_name = weekly_members.scope_name
            and weekly_counters.week_start = weekly_members.week_start

)

select * from final
