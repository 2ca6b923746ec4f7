-- One row per scope: how complete and how fresh its data is. A day is missing when no daily
-- report of the scope was attempted for it between the first and the latest attempted day. Days
-- of a report GitHub does not offer for the scope (partition status 'unavailable') count as
-- neither failed, without a report nor missing: the report is listed in unavailable_reports.
-- The scope's latest seats listing is summarised beside GitHub's own total_seats, and
-- source_anomalies counts its rows in fct_copilot_data_quality.
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

report_availability as (

    select * from {{ ref('int_report_availability_latest') }}

),

seats as (

    select * from {{ ref('int_seats_merged') }}

),

seat_totals as (

    select * from {{ ref('stg_github_copilot__seat_totals') }}

),

report_28_day_totals as (

    select * from {{ ref('stg_github_copilot__report_28_day_totals') }}

),

data_quality as (

    select * from {{ ref('fct_copilot_data_quality') }}

),

scopes as (

    -- every scope any input knows of, so a scope with seats only (or a 28-day report only) has a row
    select
        scope_type,
        scope_name
    from partitions
    union
    select
        scope_type,
        scope_name
    from quarantine
    union
    select
        scope_type,
        scope_name
    from report_availability
    union
    select
        scope_type,
        scope_name
    from seats
    union
    select
        scope_type,
        scope_name
    from seat_totals
    union
    select
        scope_type,
        scope_name
    from report_28_day_totals
    union
    select
        scope_type,
        scope_name
    from data_quality

),

daily_partitions as (

    select * from partitions
    where report like '%-1-day' and status != 'unavailable'

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

    -- record keys first seen within new_schema_key_days of the newest report day, after the
    -- first day of their own report (a report's first load, e.g. a 28-day report logged under
    -- its end day, brings no "new" key)
    select count(*) as new_schema_keys
    from schema_keys
    where
        first_day > (
            select min(same_report.first_day) from schema_keys as same_report
            where same_report.report = schema_keys.report
        )
        and first_day >= (select max(all_keys.last_day) from schema_keys as all_keys)
        - {{ var('new_schema_key_days', 7) }}

),

unavailable as (

    select
        scope_type,
        scope_name,
        string_agg(
            report || coalesce(' (HTTP ' || cast(http_status as varchar) || ')', ''), ', ' order by report
        ) as unavailable_reports
    from report_availability
    where not is_available
    group by scope_type, scope_name

),

anomalies as (

    select
        scope_type,
        scope_name,
        count(*) as source_anomalies
    from data_quality
    group by scope_type, scope_name

),

latest_seat_snapshots as (

    select * from {{ ref('int_seat_snapshot_days') }}
    where is_latest

),

latest_seats as (

    select
        latest_seat_snapshots.scope_type,
        latest_seat_snapshots.scope_name,
        latest_seat_snapshots.snapshot_day,
        coalesce(sum(seats.seat_objects), 0) as seat_rows,
        count(seats.seat_key) filter (where seats.assignee_type = 'user') as user_seats,
        count(seats.seat_key) filter (where seats.assignee_type != 'user') as non_user_seat_rows
    from latest_seat_snapshots
    left join seats
        on
            latest_seat_snapshots.scope_type = seats.scope_type
            and latest_seat_snapshots.scope_name = seats.scope_name
            and latest_seat_snapshots.snapshot_day = seats.snapshot_day
    group by latest_seat_snapshots.scope_type, latest_seat_snapshots.scope_name, latest_seat_snapshots.snapshot_day

),

final as (

    select
        scopes.scope_type,
        scopes.scope_name,
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
        cast(new_keys.new_schema_keys as bigint) as new_schema_keys,
        unavailable.unavailable_reports,
        cast(coalesce(anomalies.source_anomalies, 0) as bigint) as source_anomalies,
        latest_seats.snapshot_day as seat_snapshot_day,
        cast(coalesce(seat_totals.seat_rows, latest_seats.seat_rows) as bigint) as seat_rows,
        cast(latest_seats.user_seats as bigint) as user_seats,
        cast(latest_seats.non_user_seat_rows as bigint) as non_user_seat_rows,
        seat_totals.total_seats
    from scopes
    cross join new_keys
    left join scope_summary
        on
            scopes.scope_type = scope_summary.scope_type
            and scopes.scope_name = scope_summary.scope_name
    left join quarantined
        on
            scopes.scope_type = quarantined.scope_type
            and scopes.scope_name = quarantined.scope_name
    left join unavailable
        on
            scopes.scope_type = unavailable.scope_type
            and scopes.scope_name = unavailable.scope_name
    left join anomalies
        on
            scopes.scope_type = anomalies.scope_type
            and scopes.scope_name = anomalies.scope_name
    left join latest_seats
        on
            scopes.scope_type = latest_seats.scope_type
            and scopes.scope_name = latest_seats.scope_name
    left join seat_totals
        on
            latest_seats.scope_type = seat_totals.scope_type
            and latest_seats.scope_name = seat_totals.scope_name
            and latest_seats.snapshot_day = seat_totals.snapshot_day

)

select * from final
