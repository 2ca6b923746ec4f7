-- Scope x report x day: the latest state of each partition the ingest tried (loaded, no_report,
-- failed, skipped), with the number of attempts. A day not loaded of a report GitHub does not
-- offer for the scope (its latest availability probe said so, e.g. repos-1-day answering 404) is
-- 'unavailable': neither failed nor missing.
with

attempts as (

    select * from {{ ref('stg_github_copilot__ingest_log') }}

),

report_availability as (

    select * from {{ ref('int_report_availability_latest') }}

),

partitions as (

    select
        scope_type,
        scope_name,
        report,
        day,
        cast(arg_max(http_status, finished_at) as bigint) as http_status,
        cast(arg_max(records, finished_at) as bigint) as records,
        cast(arg_max(quarantined, finished_at) as bigint) as quarantined,
        cast(arg_max(retries, finished_at) as bigint) as retries,
        cast(count(*) as bigint) as attempts,
        cast(count(*) filter (where status = 'failed') as bigint) as failed_attempts,
        arg_max(status, finished_at) as status,
        arg_max(message, finished_at) as message,
        min(finished_at) as first_attempt_at,
        max(finished_at) as last_attempt_at
    from attempts
    group by scope_type, scope_name, report, day

),

final as (

    select
        partitions.scope_type,
        partitions.scope_name,
        partitions.report,
        partitions.day,
        partitions.http_status,
        partitions.records,
        partitions.quarantined,
        partitions.retries,
        partitions.attempts,
        partitions.failed_attempts,
        partitions.message,
        partitions.first_attempt_at,
        partitions.last_attempt_at,
        case
            when partitions.status != 'loaded' and not coalesce(report_availability.is_available, true)
                then 'unavailable'
            else partitions.status
        end as status
    from partitions
    left join report_availability
        on
            partitions.scope_type = report_availability.scope_type
            and partitions.scope_name = report_availability.scope_name
            and partitions.report = report_availability.report

)

select * from final
