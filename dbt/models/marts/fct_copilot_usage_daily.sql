{{ incremental_day_config(on_schema_change='append_new_columns') }}

-- Scope x day usage, one continuous history across the legacy and the usage metrics APIs.
with

usage_days as (

    select * from {{ ref('int_usage_days_conformed') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

changes as (

    -- per-user records feed active_members: a re-pull of users-1-day alone also counts
    {{ days_loaded(['usage_days', 'member_days']) }}

),

recomputed_days as (

    select * from usage_days
    where day >= {{ incremental_start_day('changes') }}

),

members_per_day as (

    select
        scope_type,
        scope_name,
        day,
        count(distinct user_id) filter (where is_active) as active_members,
        max(_loaded_at) as last_loaded_at
    from member_days
    group by scope_type, scope_name, day

),

final as (

    select
        {{ scope_day_columns('recomputed_days') }},
        recomputed_days.daily_active_users,
        recomputed_days.weekly_active_users,
        recomputed_days.monthly_active_users,
        recomputed_days.engaged_users,
        case
            when recomputed_days.source_api = 'usage_metrics'
                then cast(coalesce(members_per_day.active_members, 0) as bigint)
        end as active_members,
        recomputed_days.user_initiated_interactions,
        recomputed_days.code_generations,
        recomputed_days.code_acceptances,
        recomputed_days.loc_suggested_to_add,
        recomputed_days.loc_added,
        recomputed_days.loc_deleted,
        {{ safe_ratio('recomputed_days.code_acceptances', 'recomputed_days.code_generations') }}
            as acceptance_rate,
        -- a ratio, not a rate: loc_added includes agent edits that were never suggested
        {{ safe_ratio('recomputed_days.loc_added', 'recomputed_days.loc_suggested_to_add') }}
            as loc_added_per_suggested_line,
        recomputed_days.completion_loc_suggested_to_add,
        recomputed_days.completion_loc_added,
        {{ safe_ratio('recomputed_days.completion_loc_added', 'recomputed_days.completion_loc_suggested_to_add') }}
            as completion_loc_acceptance_rate,
        recomputed_days.source_api,
        greatest(recomputed_days._loaded_at, coalesce(members_per_day.last_loaded_at, recomputed_days._loaded_at))
            as last_loaded_at
    from recomputed_days
    left join members_per_day
        on
            recomputed_days.scope_type = members_per_day.scope_type
            and recomputed_days.scope_name = members_per_day.scope_name
            and recomputed_days.day = members_per_day.day

)

select * from final
