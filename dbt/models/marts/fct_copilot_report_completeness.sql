-- Scope x day of the latest 28-day report window: does the landed daily data agree with the
-- 28-day report? 'ok' (same generations, acceptances and user lines), 'late' (the daily report
-- last answered 204: GitHub published it later, re-pull the day), 'missing' (no daily data: never
-- fetched or failed), 'disagrees' (daily data differs from the 28-day report: re-pull the day).
-- Days of a scope report GitHub does not offer for the scope (partition status 'unavailable') and
-- without daily data are left out: they are neither missing nor late.
with

report_totals as (

    select * from {{ ref('stg_github_copilot__report_28_day_totals') }}

),

report_user_lines as (

    select * from {{ ref('stg_github_copilot__report_28_day_user_lines') }}

),

aggregates as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

member_days as (

    select * from {{ ref('stg_github_copilot__usage_users') }}

),

partitions as (

    select * from {{ ref('fct_copilot_partition_status') }}

),

latest_totals as (

    select * from report_totals
    qualify report_end_day = max(report_end_day) over (partition by scope_type, scope_name)

),

latest_user_lines as (

    select
        scope_type,
        scope_name,
        report_end_day,
        day,
        count(*) as user_lines
    from report_user_lines
    group by scope_type, scope_name, report_end_day, day

),

landed_users as (

    select
        scope_type,
        scope_name,
        day,
        count(*) as user_records
    from member_days
    group by scope_type, scope_name, day

),

aggregate_attempts as (

    select * from partitions
    where report in ('organization-1-day', 'enterprise-1-day')

),

compared as (

    select
        latest_totals.scope_type,
        latest_totals.scope_name,
        latest_totals.day,
        latest_totals.report_end_day,
        latest_totals.code_generations as expected_code_generations,
        aggregates.code_generations as landed_code_generations,
        latest_totals.code_acceptances as expected_code_acceptances,
        aggregates.code_acceptances as landed_code_acceptances,
        latest_user_lines.user_lines as expected_user_records,
        landed_users.user_records as landed_user_records,
        aggregate_attempts.status as daily_status,
        aggregates.day is not null as has_daily_data
    from latest_totals
    left join aggregates
        on
            latest_totals.scope_type = aggregates.scope_type
            and latest_totals.scope_name = aggregates.scope_name
            and latest_totals.day = aggregates.day
    left join latest_user_lines
        on
            latest_totals.scope_type = latest_user_lines.scope_type
            and latest_totals.scope_name = latest_user_lines.scope_name
            and latest_totals.report_end_day = latest_user_lines.report_end_day
            and latest_totals.day = latest_user_lines.day
    left join landed_users
        on
            latest_totals.scope_type = landed_users.scope_type
            and latest_totals.scope_name = landed_users.scope_name
            and latest_totals.day = landed_users.day
    left join aggregate_attempts
        on
            latest_totals.scope_type = aggregate_attempts.scope_type
            and latest_totals.scope_name = aggregate_attempts.scope_name
            and latest_totals.day = aggregate_attempts.day

),

final as (

    select
        scope_type,
        scope_name,
        day,
        report_end_day,
        daily_status,
        expected_code_generations,
        landed_code_generations,
        expected_code_acceptances,
        landed_code_acceptances,
        cast(coalesce(expected_user_records, 0) as bigint) as expected_user_records,
        cast(coalesce(landed_user_records, 0) as bigint) as landed_user_records,
        case
            when not has_daily_data and daily_status = 'no_report' then 'late'
            when not has_daily_data then 'missing'
            when
                coalesce(expected_code_generations, -1) != coalesce(landed_code_generations, -1)
                or coalesce(expected_code_acceptances, -1) != coalesce(landed_code_acceptances, -1)
                or coalesce(expected_user_records, 0) != coalesce(landed_user_records, 0)
                then 'disagrees'
            else 'ok'
        end as status
    from compared
    -- a day without daily data of a scope report GitHub does not offer for the scope is not missing
    where has_daily_data or daily_status is distinct from 'unavailable'

)

select * from final
