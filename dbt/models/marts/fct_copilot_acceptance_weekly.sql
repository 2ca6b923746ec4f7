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
        {{ summed_counters(usage_counters(), cast_as=none) }},
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
        weekly_usage.*,
        weekly_members.active_users
    from weekly_usage
    left join weekly_members
        on
            weekly_usage.scope_type = weekly_members.scope_type
            and weekly_usage.scope_name = weekly_members.scope_name
            and weekly_usage.week_start = weekly_members.week_start

),

rated as (

    {{ ratios_with_week_change('weeks', acceptance_ratios(), ['scope_type', 'scope_name']) }}

),

final as (

    select
        scope_type,
        scope_name,
        week_start,
        cast(week_start + interval 6 days as date) as week_end,
        cast(days_with_data as bigint) as days_with_data,
        {{ ratio_columns(acceptance_ratios()) }},
        cast(user_initiated_interactions as bigint) as user_initiated_interactions,
        cast(active_users as bigint) as active_users,
        source_api,
        {{ ratio_change_columns(acceptance_ratios()) }}
    from rated

)

select * from final
