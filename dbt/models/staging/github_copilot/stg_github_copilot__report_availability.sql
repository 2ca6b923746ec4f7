-- One row per probe of whether GitHub offers a report for a scope (available, or the HTTP status
-- and reason it is not, e.g. repos-1-day answering 404 for an organization).
with

source as (

    select * from {{ source('github_copilot', 'report_availability') }}

),

final as (

    select
        scope_type,
        scope_name,
        report,
        available as is_available,
        http_status,
        reason,
        checked_day,
        checked_at,
        load_id,
        md5(concat_ws(
            '|', load_id, scope_type, scope_name, report, cast(checked_at as varchar),
            cast(row_number() over (
                partition by load_id, scope_type, scope_name, report, checked_at
                order by available, http_status
            ) as varchar)
        )) as availability_check_id
    from source

)

select * from final
