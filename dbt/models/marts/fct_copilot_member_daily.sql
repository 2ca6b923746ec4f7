{{ incremental_day_config(on_schema_change='append_new_columns') }}

-- Scope x member x day from the per-user reports, with rolling 7- and 28-day activity.
with

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

changes as (

    {{ days_loaded(['member_days']) }}

),

start_day as (

    select {{ incremental_start_day('changes') }} as first_recomputed_day

),

windowed as (

    -- 27 days before the first recomputed day feed the rolling windows
    select
        member_days.*,
        sum(case when member_days.is_active then 1 else 0 end) over last_7_days as active_days_rolling_7d,
        sum(case when member_days.is_active then 1 else 0 end) over last_28_days as active_days_rolling_28d,
        sum(member_days.code_generations) over last_28_days as code_generations_rolling_28d,
        sum(member_days.code_acceptances) over last_28_days as code_acceptances_rolling_28d
    from member_days
    where member_days.day >= (select start_day.first_recomputed_day - 27 from start_day)
    window
        last_7_days as (
            partition by member_days.scope_type, member_days.scope_name, member_days.user_id
            order by member_days.day
            range between interval 6 days preceding and current row
        ),
        last_28_days as (
            partition by member_days.scope_type, member_days.scope_name, member_days.user_id
            order by member_days.day
            range between interval 27 days preceding and current row
        )

),

final as (

    select
        scope_type,
        scope_name,
        day,
        week_start,
        user_id,
        {{ mart_login('user_login') }} as user_login,
        is_active,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        {{ safe_ratio('code_acceptances', 'code_generations') }} as acceptance_rate,
        loc_suggested_to_add,
        loc_suggested_to_delete,
        loc_added,
        loc_deleted,
        -- a ratio, not a rate: loc_added includes agent edits that were never suggested
        {{ safe_ratio('loc_added', 'loc_suggested_to_add') }} as loc_added_per_suggested_line,
        completion_loc_suggested_to_add,
        completion_loc_added,
        {{ safe_ratio('completion_loc_added', 'completion_loc_suggested_to_add') }} as completion_loc_acceptance_rate,
        used_chat,
        used_agent,
        used_cli,
        used_copilot_code_review_active,
        used_copilot_code_review_passive,
        used_copilot_cloud_agent,
        used_copilot_app,
        ai_credits_used,
        ai_adoption_phase,
        cast(active_days_rolling_7d as bigint) as active_days_rolling_7d,
        cast(active_days_rolling_28d as bigint) as active_days_rolling_28d,
        cast(code_generations_rolling_28d as bigint) as code_generations_rolling_28d,
        cast(code_acceptances_rolling_28d as bigint) as code_acceptances_rolling_28d,
        {{ safe_ratio('code_acceptances_rolling_28d', 'code_generations_rolling_28d') }}
            as acceptance_rate_rolling_28d,
        _loaded_at as last_loaded_at
    from windowed
    where day >= (select start_day.first_recomputed_day from start_day)

)

select * from final
