-- Scope x day pull-request activity and Copilot code review suggestions, as the aggregate
-- reports (organization-1-day / enterprise-1-day) give them: one row per day whose record carries
-- a pull_requests object. A table: one aggregate record per scope and day, recomputed each build.
with

aggregates as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}
    where has_pull_requests

),

final as (

    select
        {{ scope_day_columns() }},
        {{ column_list(pull_request_counters()) }},
        -- a median over no merged pull request is unknown, never 0
        {{ median_if_merged('median_minutes_to_merge', 'pull_requests_merged') }} as median_minutes_to_merge,
        {{ median_if_merged('median_minutes_to_merge_copilot_authored', 'pull_requests_merged_created_by_copilot') }}
            as median_minutes_to_merge_copilot_authored,
        {{ median_if_merged('median_minutes_to_merge_copilot_reviewed', 'pull_requests_merged_reviewed_by_copilot') }}
            as median_minutes_to_merge_copilot_reviewed,
        {{ unprefixed_columns(suggestion_counters(), 'pull_request_') }},
        {{ safe_ratio('pull_request_applied_suggestions', 'pull_request_suggestions') }}
            as applied_suggestion_rate,
        {{ safe_ratio('pull_request_copilot_applied_suggestions', 'pull_request_copilot_suggestions') }}
            as copilot_applied_suggestion_rate,
        _loaded_at as last_loaded_at
    from aggregates

)

select * from final
