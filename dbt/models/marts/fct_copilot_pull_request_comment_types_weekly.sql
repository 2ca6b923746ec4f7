-- Scope x ISO week (Monday start, UTC) x comment type: Copilot code review suggestions and how
-- many were applied (pull_requests.copilot_suggestions_by_comment_type of the aggregate reports),
-- summed over the week's days; the applied rate is a ratio of sums.
with

comment_types as (

    select * from {{ ref('stg_github_copilot__aggregate_pr_comment_types') }}

),

final as (

    select
        scope_type,
        scope_name,
        {{ iso_week_start('day') }} as week_start,
        comment_type,
        cast(count(distinct day) as bigint) as days_with_data,
        cast(sum(copilot_suggestions) as bigint) as copilot_suggestions,
        cast(sum(copilot_applied_suggestions) as bigint) as copilot_applied_suggestions,
        {{ ratio_of_sums('copilot_applied_suggestions', 'copilot_suggestions') }}
            as copilot_applied_suggestion_rate,
        max(_loaded_at) as last_loaded_at
    from comment_types
    group by scope_type, scope_name, {{ iso_week_start('day') }}, comment_type

)

select * from final
