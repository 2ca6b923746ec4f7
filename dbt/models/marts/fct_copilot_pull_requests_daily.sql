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
        pull_requests_created,
        pull_requests_reviewed,
        pull_requests_merged,
        pull_requests_created_by_copilot,
        pull_requests_merged_created_by_copilot,
        pull_requests_reviewed_by_copilot,
        pull_requests_merged_reviewed_by_copilot,
        -- a median over no merged pull request is unknown, never 0
        case when coalesce(pull_requests_merged, 1) > 0 then median_minutes_to_merge end
            as median_minutes_to_merge,
        case
            when coalesce(pull_requests_merged_created_by_copilot, 1) > 0
                then median_minutes_to_merge_copilot_authored
        end as median_minutes_to_merge_copilot_authored,
        case
            when coalesce(pull_requests_merged_reviewed_by_copilot, 1) > 0
                then median_minutes_to_merge_copilot_reviewed
        end as median_minutes_to_merge_copilot_reviewed,
        pull_request_suggestions as suggestions,
        pull_request_applied_suggestions as applied_suggestions,
        pull_request_copilot_suggestions as copilot_suggestions,
        pull_request_copilot_applied_suggestions as copilot_applied_suggestions,
        {{ safe_ratio('pull_request_applied_suggestions', 'pull_request_suggestions') }}
            as applied_suggestion_rate,
        {{ safe_ratio('pull_request_copilot_applied_suggestions', 'pull_request_copilot_suggestions') }}
            as copilot_applied_suggestion_rate,
        _loaded_at as last_loaded_at
    from aggregates

)

select * from final
