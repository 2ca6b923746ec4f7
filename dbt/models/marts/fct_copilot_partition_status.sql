-- Scope x report x day: the latest state of each partition the ingest tried (loaded, no_report,
-- failed, skipped), with the number of attempts.
with

attempts as (

    select * from {{ ref('stg_github_copilot__ingest_log') }}

),

final as (

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

)

select * from final
