-- One row per scope, member and day with a users report record: the member's Copilot CLI and
-- Copilot desktop app use and AI credits. A member-day used the CLI when used_cli is true or the
-- record carries a totals_by_cli object (the desktop app likewise with used_copilot_app /
-- totals_by_copilot_app). Absent objects mean zero requests; the CLI and app counters are kept
-- apart (GitHub may report the same activity under both on a transition day).
with

member_days as (

    select * from {{ ref('stg_github_copilot__usage_users') }}

),

cli_totals as (

    select * from {{ ref('stg_github_copilot__user_cli_totals') }}

),

app_totals as (

    select * from {{ ref('stg_github_copilot__user_copilot_app_totals') }}

),

final as (

    select
        member_days.scope_type,
        member_days.scope_name,
        member_days.day,
        {{ iso_week_start('member_days.day') }} as week_start,
        member_days.user_id,
        member_days.user_login,
        (coalesce(member_days.used_cli, false) or cli_totals.user_id is not null) as used_cli,
        (coalesce(member_days.used_copilot_app, false) or app_totals.user_id is not null) as used_copilot_app,
        coalesce(cli_totals.cli_sessions, 0) as cli_sessions,
        coalesce(cli_totals.cli_requests, 0) as cli_requests,
        coalesce(cli_totals.cli_prompts, 0) as cli_prompts,
        coalesce(cli_totals.cli_output_tokens, 0) as cli_output_tokens,
        coalesce(cli_totals.cli_prompt_tokens, 0) as cli_prompt_tokens,
        coalesce(app_totals.app_sessions, 0) as app_sessions,
        coalesce(app_totals.app_requests, 0) as app_requests,
        coalesce(app_totals.app_prompts, 0) as app_prompts,
        coalesce(app_totals.app_output_tokens, 0) as app_output_tokens,
        coalesce(app_totals.app_prompt_tokens, 0) as app_prompt_tokens,
        member_days.ai_credits_used,
        member_days._loaded_at
    from member_days
    left join cli_totals
        on {{ keys_match('member_days', 'cli_totals', ['scope_type', 'scope_name', 'day', 'user_id']) }}
    left join app_totals
        on {{ keys_match('member_days', 'app_totals', ['scope_type', 'scope_name', 'day', 'user_id']) }}

)

select * from final
