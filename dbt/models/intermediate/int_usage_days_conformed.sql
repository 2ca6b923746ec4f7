-- One continuous daily history per scope across the API change: every day of the usage metrics
-- reports, plus legacy /copilot/metrics days for dates the new reports do not cover for that
-- scope. Legacy generations = total_code_suggestions, acceptances = total_code_acceptances
-- (summed over editors, models and languages), active users = total_active_users.
with

usage_days as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

legacy_days as (

    select * from {{ ref('stg_github_copilot__legacy_metrics') }}

),

new_api as (

    select
        scope_type,
        scope_name,
        day,
        'usage_metrics' as source_api,
        daily_active_users,
        weekly_active_users,
        monthly_active_users,
        cast(null as bigint) as engaged_users,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        loc_deleted,
        _loaded_at
    from usage_days

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
        legacy_days._loaded_at
    from legacy_days
    left join usage_days
        on
            legacy_days.scope_type = usage_days.scope_type
            and legacy_days.scope_name = usage_days.scope_name
            and legacy_days.day = usage_days.day
    where usage_days.day is null

),

final as (

    select * from new_api
    union all
    select * from legacy_api

)

select * from final
