-- Scope x day Copilot CLI and Copilot desktop app activity: one row for every day the scope has
-- an aggregate record (organization-1-day / enterprise-1-day). An absent totals_by_cli or
-- totals_by_copilot_app object means no use that day (0), and the two are never added together:
-- GitHub may report the same activity under both on a transition day. cli_or_app_users counts
-- distinct members from the users report (null when the scope has no users report that day).
with

aggregates as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

cli_totals as (

    select * from {{ ref('stg_github_copilot__aggregate_cli_totals') }}

),

app_totals as (

    select * from {{ ref('stg_github_copilot__aggregate_copilot_app_totals') }}

),

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

),

members_per_day as (

    select
        scope_type,
        scope_name,
        day,
        count(distinct user_id) filter (where used_cli) as cli_members,
        count(distinct user_id) filter (where used_copilot_app) as app_members,
        count(distinct user_id) filter (where used_cli or used_copilot_app) as cli_or_app_users
    from member_days
    group by scope_type, scope_name, day

),

final as (

    select
        {{ scope_day_columns('aggregates') }},
        -- without a CLI object and without the count, GitHub saw no CLI use that day
        {{ daily_active_or_zero('aggregates.daily_active_cli_users', 'cli_totals') }} as daily_active_cli_users,
        {{ coalesced_counters(cli_app_counters('cli'), 'cli_totals') }},
        {{ safe_ratio(
            'coalesce(cli_totals.cli_output_tokens, 0) + coalesce(cli_totals.cli_prompt_tokens, 0)',
            'cli_totals.cli_requests'
        ) }} as cli_tokens_per_request,
        {{ daily_active_or_zero('aggregates.daily_active_copilot_app_users', 'app_totals') }}
            as daily_active_copilot_app_users,
        {{ coalesced_counters(cli_app_counters('app'), 'app_totals') }},
        {{ safe_ratio(
            'coalesce(app_totals.app_output_tokens, 0) + coalesce(app_totals.app_prompt_tokens, 0)',
            'app_totals.app_requests'
        ) }} as app_tokens_per_request,
        cast(members_per_day.cli_members as bigint) as cli_members,
        cast(members_per_day.app_members as bigint) as app_members,
        cast(members_per_day.cli_or_app_users as bigint) as cli_or_app_users
    from aggregates
    left join cli_totals
        on
            aggregates.scope_type = cli_totals.scope_type
            and aggregates.scope_name = cli_totals.scope_name
            and aggregates.day = cli_totals.day
    left join app_totals
        on
            aggregates.scope_type = app_totals.scope_type
            and aggregates.scope_name = app_totals.scope_name
            and aggregates.day = app_totals.day
    left join members_per_day
        on
            aggregates.scope_type = members_per_day.scope_type
            and aggregates.scope_name = members_per_day.scope_name
            and aggregates.day = members_per_day.day

)

select * from final
