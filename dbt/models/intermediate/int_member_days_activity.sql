-- One row per scope, member and day with a users report record, with the active rule applied:
-- a member-day is active when any activity counter is above 0 or any used_* flag is true.
-- Code completion lines come from the code_completion entry of the record's totals_by_feature.
with

member_days as (

    select * from {{ ref('stg_github_copilot__usage_users') }}

),

feature_totals as (

    select * from {{ ref('stg_github_copilot__user_feature_totals') }}

),

completion_lines as (

    {{ completion_lines('feature_totals', ['scope_type', 'scope_name', 'day', 'user_id']) }}

),

final as (

    select
        member_days.scope_type,
        member_days.scope_name,
        member_days.day,
        {{ iso_week_start('member_days.day') }} as week_start,
        member_days.user_id,
        member_days.user_login,
        coalesce(member_days.user_initiated_interactions, 0) as user_initiated_interactions,
        coalesce(member_days.code_generations, 0) as code_generations,
        coalesce(member_days.code_acceptances, 0) as code_acceptances,
        coalesce(member_days.loc_suggested_to_add, 0) as loc_suggested_to_add,
        coalesce(member_days.loc_suggested_to_delete, 0) as loc_suggested_to_delete,
        coalesce(member_days.loc_added, 0) as loc_added,
        coalesce(member_days.loc_deleted, 0) as loc_deleted,
        coalesce(member_days.used_chat, false) as used_chat,
        coalesce(member_days.used_agent, false) as used_agent,
        coalesce(member_days.used_cli, false) as used_cli,
        coalesce(member_days.used_copilot_code_review_active, false) as used_copilot_code_review_active,
        coalesce(member_days.used_copilot_code_review_passive, false) as used_copilot_code_review_passive,
        coalesce(member_days.used_copilot_cloud_agent, false) as used_copilot_cloud_agent,
        coalesce(member_days.used_copilot_app, false) as used_copilot_app,
        member_days.ai_credits_used,
        member_days.ai_adoption_phase,
        -- a record without a code_completion entry had no completion lines (absent blocks are 0)
        coalesce(completion_lines.completion_loc_suggested_to_add, 0) as completion_loc_suggested_to_add,
        coalesce(completion_lines.completion_loc_added, 0) as completion_loc_added,
        (
            coalesce(member_days.user_initiated_interactions, 0) > 0
            or coalesce(member_days.code_generations, 0) > 0
            or coalesce(member_days.code_acceptances, 0) > 0
            or coalesce(member_days.loc_suggested_to_add, 0) > 0
            or coalesce(member_days.loc_suggested_to_delete, 0) > 0
            or coalesce(member_days.loc_added, 0) > 0
            or coalesce(member_days.loc_deleted, 0) > 0
            or coalesce(member_days.used_chat, false)
            or coalesce(member_days.used_agent, false)
            or coalesce(member_days.used_cli, false)
            or coalesce(member_days.used_copilot_code_review_active, false)
            or coalesce(member_days.used_copilot_code_review_passive, false)
            or coalesce(member_days.used_copilot_cloud_agent, false)
            or coalesce(member_days.used_copilot_app, false)
        ) as is_active,
        member_days._loaded_at
    from member_days
    left join completion_lines
        on {{ keys_match('member_days', 'completion_lines', ['scope_type', 'scope_name', 'day', 'user_id']) }}

)

select * from final
