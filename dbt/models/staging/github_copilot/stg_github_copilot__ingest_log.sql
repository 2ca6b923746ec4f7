-- One row per attempt to fetch or load a partition (scope, report, day).
with

source as (

    select * from {{ source('github_copilot', 'ingest_log') }}

),

final as (

    select
        load_id,
        scope_type,
        scope_name,
        report,
        day,
        http_status,
        status,
        records,
        quarantined,
        duplicates,
        parts,
        retries,
        message,
        started_at,
        finished_at,
        md5(concat_ws(
            '|', load_id, scope_type, scope_name, report, cast(day as varchar), cast(finished_at as varchar),
            cast(row_number() over (
                partition by load_id, scope_type, scope_name, report, day, finished_at
                order by status
            ) as varchar)
        )) as ingest_attempt_id
    from source

)

select * from final
