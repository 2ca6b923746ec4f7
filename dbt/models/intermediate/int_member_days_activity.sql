-- One row per scope, member and day with a users report record, with the active rule applied:
-- a member-day is active when any activity counter is above 0 or any used_* flag is true.
with

member_days as (

    select * from {{ ref('stg_github_copilot__usage_users') }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        {{ iso_week_start('day') }} as week_start,
        user_id,
        user_login,
        coalesce(user_initiated_interactions, 0) as user_initiated_interactions,
        coalesce(code_generations, 0) as code_generations,
        coalesce(code_acceptances, 0) as code_acceptances,
        coalesce(loc_suggested_to_add, 0) as loc_suggested_to_add,
        coalesce(loc_suggested_to_delete, 0) as loc_suggested_to_delete,
        coalesce(loc_added, 0) as loc_added,
        coalesce(loc_deleted, 0) as loc_deleted,
        coalesce(used_chat, false) as used_chat,
        coalesce(used_agent, false) as used_agent,
        coalesce(used_cli, false) as used_cli,
        coalesce(used_copilot_code_review_active, false) as used_copilot_code_review_active,
        coalesce(used_copilot_code_review_passive, false) as used_copilot_code_review_passive,
        coalesce(used_copilot_cloud_agent, false) as used_copilot_cloud_agent,
        coalesce(used_copilot_app, false) as used_copilot_app,
        ai_credits_used,
        ai_adoption_phase,
        (
            coalesce(user_initiated_interactions, 0) > 0
            or coalesce(code_generations, 0) > 0
            or coalesce(code_acceptances, 0) > 0
            or coalesce(loc_suggested_to_add, 0) > 0
            or coalesce(loc_suggested_to_delete, 0) > 0
            or coalesce(loc_added, 0) > 0
            or coalesce(loc_deleted, 0) > 0
            or coalesce(used_chat, false)
            or coalesce(used_agent, false)
            or coalesce(used_cli, false)
            or coalesce(used_copilot_code_review_active, false)
            or coalesce(used_copilot_code_review_passive, false)
            or coalesce(used_copilot_cloud_agent, false)
            or coalesce(used_copilot_app, false)
        ) as is_active,
        _loaded_at
    from member_days

)

select * from final
