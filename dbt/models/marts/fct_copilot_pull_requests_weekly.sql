-- Scope x ISO week (Monday start, UTC) pull-request activity: counters summed over the week's
-- days, rates as ratios of sums. GitHub gives medians per day only; the weekly figure is the
-- merge-weighted mean of the daily medians (an approximation, never a sum or a plain mean).
with

daily as (

    select * from {{ ref('fct_copilot_pull_requests_daily') }}

),

final as (

    select
        scope_type,
        scope_name,
        week_start,
        cast(count(*) as bigint) as days_with_data,
        {{ summed_counters(pull_request_counters()) }},
        {{ merge_weighted_median('median_minutes_to_merge', 'pull_requests_merged') }}
            as median_minutes_to_merge_approx,
        {{ merge_weighted_median(
            'median_minutes_to_merge_copilot_authored', 'pull_requests_merged_created_by_copilot'
        ) }} as median_minutes_to_merge_copilot_authored_approx,
        {{ merge_weighted_median(
            'median_minutes_to_merge_copilot_reviewed', 'pull_requests_merged_reviewed_by_copilot'
        ) }} as median_minutes_to_merge_copilot_reviewed_approx,
        {{ summed_counters(suggestion_counters()) }},
        {{ ratio_of_sums('applied_suggestions', 'suggestions') }} as applied_suggestion_rate,
        {{ ratio_of_sums('copilot_applied_suggestions', 'copilot_suggestions') }}
            as copilot_applied_suggestion_rate,
        max(last_loaded_at) as last_loaded_at
    from daily
    group by scope_type, scope_name, week_start

)

select * from final
