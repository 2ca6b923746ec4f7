-- One continuous daily history per scope across the API change: every day of the usage metrics
-- reports, plus legacy /copilot/metrics days for dates the new reports do not cover for that
-- scope. Legacy generations = total_code_suggestions, acceptances = total_code_acceptances
-- (summed over editors, models and languages), active users = total_active_users. Code
-- completion lines: the code_completion entry of totals_by_feature (no entry: 0); legacy days
-- report code completions only, so their completion lines are their lines.
with

usage_days as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

feature_totals as (

    select * from {{ ref('stg_github_copilot__aggregate_feature_totals') }}

),

legacy_days as (

    select * from {{ ref('stg_github_copilot__legacy_metrics') }}

),

completion_lines as (

    {{ completion_lines('feature_totals', ['scope_type', 'scope_name', 'day']) }}

),

new_api as (

    select
        usage_days.scope_type,
        usage_days.scope_name,
        usage_days.day,
        'usage_metrics' as source_api,
        usage_days.daily_active_users,
        usage_days.weekly_active_users,
        usage_days.monthly_active_users,
        cast(null as bigint) as engaged_users,
        usage_days.user_initiated_interactions,
        usage_days.code_generations,
        usage_days.code_acceptances,
        usage_days.loc_suggested_to_add,
        usage_days.loc_added,
        usage_days.loc_deleted,
        -- a day without a code_completion entry had no completion lines (absent blocks are 0)
        coalesce(completion_lines.completion_loc_suggested_to_add, 0) as completion_loc_suggested_to_add,
        coalesce(completion_lines.completion_loc_added, 0) as completion_loc_added,
        usage_days._loaded_at
    from usage_days
    left join completion_lines
        on {{ keys_match('usage_days', 'completion_lines', ['scope_type', 'scope_name', 'day']) }}

),

legacy_api as (

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        'legacy_metrics' as source_api,
        legacy_days.total_active_users as daily_active_users,
        cast(null as bigint) as weekly_active_users,
        cast(null as bigint) as monthly_active_users,
        legacy_days.total_engaged_users as engaged_users,
        -- a legacy day object without a surface reported none of it: counts are 0, not unknown;
        -- chats are the legacy API's closest count of explicit prompts
        coalesce(legacy_days.ide_chats, 0) + coalesce(legacy_days.dotcom_chats, 0)
            as user_initiated_interactions,
        coalesce(legacy_days.code_suggestions, 0) as code_generations,
        coalesce(legacy_days.code_acceptances, 0) as code_acceptances,
        coalesce(legacy_days.code_lines_suggested, 0) as loc_suggested_to_add,
        coalesce(legacy_days.code_lines_accepted, 0) as loc_added,
        cast(null as bigint) as loc_deleted,
        coalesce(legacy_days.code_lines_suggested, 0) as completion_loc_suggested_to_add,
        coalesce(legacy_days.code_lines_accepted, 0) as completion_loc_added,
        legacy_days._loaded_at
    from legacy_days
    left join usage_days
        on {{ keys_match('legacy_days', 'usage_days', ['scope_type', 'scope_name', 'day']) }}
    where usage_days.day is null

),

final as (

    select * from new_api
    union all
    select * from legacy_api

)

select * from final
