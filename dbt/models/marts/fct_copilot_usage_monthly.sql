-- Scope x calendar month rollup; active users are recomputed as distinct members over the month
-- (never a sum of daily counts).
with

usage_days as (

    select * from {{ ref('fct_copilot_usage_daily') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

monthly_usage as (

    select
        scope_type,
        scope_name,
        cast(date_trunc('month', day) as date) as month_start,
        count(*) as days_with_data,
        {{ summed_counters(usage_counters(), cast_as=none) }},
        max(daily_active_users) as peak_daily_active_users,
        avg(daily_active_users) as average_daily_active_users,
        string_agg(distinct source_api, '+' order by source_api) as source_api
    from usage_days
    group by scope_type, scope_name, month_start

),

monthly_members as (

    select
        scope_type,
        scope_name,
        cast(date_trunc('month', day) as date) as month_start,
        count(distinct user_id) filter (where is_active) as active_users
    from member_days
    group by scope_type, scope_name, month_start

),

final as (

    select
        monthly_usage.scope_type,
        monthly_usage.scope_name,
        monthly_usage.month_start,
        cast(monthly_usage.days_with_data as bigint) as days_with_data,
        cast(monthly_members.active_users as bigint) as active_users,
        cast(monthly_usage.peak_daily_active_users as bigint) as peak_daily_active_users,
        cast(monthly_usage.average_daily_active_users as double) as average_daily_active_users,
        cast(monthly_usage.user_initiated_interactions as bigint) as user_initiated_interactions,
        cast(monthly_usage.code_generations as bigint) as code_generations,
        cast(monthly_usage.code_acceptances as bigint) as code_acceptances,
        {{ safe_ratio('monthly_usage.code_acceptances', 'monthly_usage.code_generations') }} as acceptance_rate,
        cast(monthly_usage.loc_suggested_to_add as bigint) as loc_suggested_to_add,
        cast(monthly_usage.loc_added as bigint) as loc_added,
        -- a ratio, not a rate: loc_added includes agent edits that were never suggested
        {{ safe_ratio('monthly_usage.loc_added', 'monthly_usage.loc_suggested_to_add') }}
            as loc_added_per_suggested_line,
        cast(monthly_usage.completion_loc_suggested_to_add as bigint) as completion_loc_suggested_to_add,
        cast(monthly_usage.completion_loc_added as bigint) as completion_loc_added,
        {{ safe_ratio('monthly_usage.completion_loc_added', 'monthly_usage.completion_loc_suggested_to_add') }}
            as completion_loc_acceptance_rate,
        monthly_usage.source_api
    from monthly_usage
    left join monthly_members
        on
            monthly_usage.scope_type = monthly_members.scope_type
            and monthly_usage.scope_name = monthly_members.scope_name
            and monthly_usage.month_start = monthly_members.month_start

)

select * from final
