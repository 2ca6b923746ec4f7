-- Repository x day per scope: pull requests the Copilot cloud agent created and merged, pull
-- requests Copilot code review reviewed and its suggestions (repos-1-day, one row per repository
-- with activity that day). Enterprise rows come from enterprise reports, never summed org rows.
with

repos as (

    select * from {{ ref('stg_github_copilot__repos') }}

),

final as (

    select
        {{ scope_day_columns() }},
        repo_key,
        repository_id,
        repository_name,
        pull_requests_created,
        pull_requests_reviewed,
        pull_requests_merged,
        pull_requests_created_by_copilot,
        pull_requests_merged_created_by_copilot,
        pull_requests_reviewed_by_copilot,
        pull_requests_merged_reviewed_by_copilot,
        case when coalesce(pull_requests_merged, 1) > 0 then median_minutes_to_merge end
            as median_minutes_to_merge,
        pull_request_suggestions as suggestions,
        pull_request_applied_suggestions as applied_suggestions,
        pull_request_copilot_suggestions as copilot_suggestions,
        pull_request_copilot_applied_suggestions as copilot_applied_suggestions,
        {{ safe_ratio('pull_request_copilot_applied_suggestions', 'pull_request_copilot_suggestions') }}
            as copilot_applied_suggestion_rate,
        _loaded_at as last_loaded_at
    from repos

)

select * from final
