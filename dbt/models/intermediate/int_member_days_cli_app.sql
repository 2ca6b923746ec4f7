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
        {{ member_day_columns('member_days') }},
        (coalesce(member_days.used_cli, false) or cli_totals.user_id is not null) as used_cli,
        (coalesce(member_days.used_copilot_app, false) or app_totals.user_id is not null) as used_copilot_app,
        {%- for totals, prefix in [('cli_totals', 'cli'), ('app_totals', 'app')] %}
            {%- for counter in ['sessions', 'requests', 'prompts', 'output_tokens', 'prompt_tokens'] %}
                coalesce({{ totals }}.{{ prefix }}_{{ counter }}, 0) as {{ prefix }}_{{ counter }},
            {%- endfor %}
        {%- endfor %}
        member_days.ai_credits_used,
        member_days._loaded_at
    from member_days
    left join cli_totals
        on {{ keys_match('member_days', 'cli_totals', ['scope_type', 'scope_name', 'day', 'user_id']) }}
    left join app_totals
        on {{ keys_match('member_days', 'app_totals', ['scope_type', 'scope_name', 'day', 'user_id']) }}

)

select * from final
