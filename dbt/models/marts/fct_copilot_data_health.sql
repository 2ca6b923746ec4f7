-- One row per scope: how complete and how fresh its data is. A day is missing when no daily
-- report of the scope was attempted for it between the first and the latest attempted day.
with

partitions as (

    select * from {{ ref('fct_copilot_partition_status') }}

),

quarantine as (

    select * from {{ ref('stg_github_copilot__quarantine') }}

),

schema_keys as (

    select * from {{ ref('stg_github_copilot__schema_keys') }}

),

daily_partitions as (

    select * from partitions
    where report like '%-1-day'

),

scope_days as (

    select
        scope_type,
        scope_name,
        day,
        bool_or(status = 'failed') as has_failed,
        bool_or(status = 'no_report') as has_no_report,
        bool_or(status = 'loaded' and report in ('organization-1-day', 'enterprise-1-day')) as has_aggregate
    from daily_partitions
    group by scope_type, scope_name, day

),

scope_summary as (

    select
        scope_type,
        scope_name,
        min(day) as first_attempted_day,
        max(day) as last_attempted_day,
        max(day) filter (where has_aggregate) as latest_report_day,
        count(*) as days_attempted,
        count(*) filter (where has_no_report) as days_no_report,
        count(*) filter (where has_failed) as days_failed
    from scope_days
    group by scope_type, scope_name

),

quarantined as (

    select
        scope_type,
        scope_name,
        count(*) as quarantined_records
    from quarantine
    group by scope_type, scope_name

),

new_keys as (

    -- record keys first seen within new_schema_key_days of the newest report day
    select count(*) as new_schema_keys
    from schema_keys
    where
        first_day > (select min(all_keys.first_day) from schema_keys as all_keys)
        and first_day >= (select max(all_keys.last_day) from schema_keys as all_keys)
        - {{ var('new_schema_key_days', 7) }}

),

final as (

    select
        scope_summary.scope_type,
        scope_summary.scope_name,
        scope_summary.first_attempted_day,
        scope_summary.last_attempted_day,
        scope_summary.latest_report_day,
        cast(
            datediff('day', scope_summary.first_attempted_day, scope_summary.last_attempted_day) + 1
            - scope_summary.days_attempted as bigint
        ) as days_missing,
        cast(scope_summary.days_no_report as bigint) as days_no_report,
        cast(scope_summary.days_failed as bigint) as days_failed,
        cast(coalesce(quarantined.quarantined_records, 0) as bigint) as quarantined_records,
        cast(new_keys.new_schema_keys as bigint) as new_schema_keys
    from scope_summary
    cross join new_keys
    left join quarantined
        on
            scope_summary.scope_type = quarantined.scope_type
            and scope_summary.scope_name = quarantined.scope_name

)

select * from final
