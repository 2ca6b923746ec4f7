-- Scope x ISO week (Monday start, UTC) acceptance: rates are sums over the week divided by sums,
-- never averages of daily rates; active_users is recomputed as distinct members over the week.
-- loc_added_per_suggested_line is a ratio that can exceed 1 (agent edits add lines that were
-- never suggested); completion_loc_acceptance_rate is the code completion lines' own rate.
with

usage_days as (

    select * from {{ ref('fct_copilot_usage_daily') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

weekly_usage as (

    select
        scope_type,
        scope_name,
        week_start,
        count(*) as days_with_data,
        sum(code_generations) as code_generations,
        sum(code_acceptances) as code_acceptances,
        sum(loc_suggested_to_add) as loc_suggested_to_add,
        sum(loc_added) as loc_added,
        sum(completion_loc_suggested_to_add) as completion_loc_suggested_to_add,
        sum(completion_loc_added) as completion_loc_added,
        sum(user_initiated_interactions) as user_initiated_interactions,
        string_agg(distinct source_api, '+' order by source_api) as source_api
    from usage_days
    group by scope_type, scope_name, week_start

),

weekly_members as (

    select
        scope_type,
        scope_name,
        week_start,
        count(distinct user_id) filter (where is_active) as active_users
    from member_days
    group by scope_type, scope_name, week_start

),

weeks as (

    select
        weekly_usage.scope_type,
        weekly_usage.scope_name,
        weekly_usage.week_start,
        cast(weekly_usage.week_start + interval 6 days as date) as week_end,
        weekly_usage.days_with_data,
        weekly_usage.code_generations,
        weekly_usage.code_acceptances,
        {{ safe_ratio('weekly_usage.code_acceptances', 'weekly_usage.code_generations') }} as acceptance_rate,
        weekly_usage.loc_suggested_to_add,
        weekly_usage.loc_added,
        {{ safe_ratio('weekly_usage.loc_added', 'weekly_usage.loc_suggested_to_add') }}
            as loc_added_per_suggested_line,
        weekly_usage.completion_loc_suggested_to_add,
        weekly_usage.completion_loc_added,
        {{ safe_ratio('weekly_usage.completion_loc_added', 'weekly_usage.completion_loc_suggested_to_add') }}
            as completion_loc_acceptance_rate,
        weekly_usage.user_initiated_interactions,
        weekly_members.active_users,
        weekly_usage.source_api
    from weekly_usage
    left join weekly_members
        on
            weekly_usage.scope_type = weekly_members.scope_type
            and weekly_usage.scope_name = weekly_members.scope_name
            and weekly_usage.week_start = weekly_members.week_start

),

final as (

    select
        this_week.scope_type,
        this_week.scope_name,
        this_week.week_start,
        this_week.week_end,
        cast(this_week.days_with_data as bigint) as days_with_data,
        cast(this_week.code_generations as bigint) as code_generations,
        cast(this_week.code_acceptances as bigint) as code_acceptances,
        this_week.acceptance_rate,
        cast(this_week.loc_suggested_to_add as bigint) as loc_suggested_to_add,
        cast(this_week.loc_added as bigint) as loc_added,
        this_week.loc_added_per_suggested_line,
        cast(this_week.completion_loc_suggested_to_add as bigint) as completion_loc_suggested_to_add,
        cast(this_week.completion_loc_added as bigint) as completion_loc_added,
        this_week.completion_loc_acceptance_rate,
        cast(this_week.user_initiated_interactions as bigint) as user_initiated_interactions,
        cast(this_week.active_users as bigint) as active_users,
        this_week.source_api,
        this_week.acceptance_rate - previous_week.acceptance_rate as acceptance_rate_change,
        this_week.loc_added_per_suggested_line - previous_week.loc_added_per_suggested_line
            as loc_added_per_suggested_line_change,
        this_week.completion_loc_acceptance_rate - previous_week.completion_loc_acceptance_rate
            as completion_loc_acceptance_rate_change
    from weeks as this_week
    left join weeks as previous_week
        on
            this_week.scope_type = previous_week.scope_type
            and this_week.scope_name = previous_week.scope_name
            and this_week.week_start - 7 = previous_week.week_start

)

select * from final
