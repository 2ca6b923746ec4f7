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
        {{ column_list(pull_request_counters()) }},
        {{ median_if_merged('median_minutes_to_merge', 'pull_requests_merged') }} as median_minutes_to_merge,
        {{ unprefixed_columns(suggestion_counters(), 'pull_request_') }},
        {{ safe_ratio('pull_request_copilot_applied_suggestions', 'pull_request_copilot_suggestions') }}
            as copilot_applied_suggestion_rate,
        _loaded_at as last_loaded_at
    from repos

)

select * from final
