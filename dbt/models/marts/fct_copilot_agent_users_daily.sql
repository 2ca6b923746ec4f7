-- Scope x day users of Copilot code review (active: requested a review; passive: received one)
-- and of the Copilot cloud agent, as the aggregate reports give them. Each is GitHub's distinct
-- count over the window its name says (1, 7 or 28 days ending that day): never summed across
-- days or scopes. A null count (cloud agent counts are nullable) stays null: unknown, not zero.
with

aggregates as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

final as (

    select
        {{ scope_day_columns() }},
        daily_active_copilot_code_review_users,
        weekly_active_copilot_code_review_users,
        monthly_active_copilot_code_review_users,
        daily_passive_copilot_code_review_users,
        weekly_passive_copilot_code_review_users,
        monthly_passive_copilot_code_review_users,
        daily_active_copilot_cloud_agent_users,
        weekly_active_copilot_cloud_agent_users,
        monthly_active_copilot_cloud_agent_users,
        _loaded_at as last_loaded_at
    from aggregates

)

select * from final
