-- The current availability of each report per scope: the latest probe wins. A report GitHub does
-- not offer for a scope (e.g. repos-1-day answering 404) is not fetched day by day, so its days
-- are neither failed nor missing.
with

checks as (

    select * from {{ ref('stg_github_copilot__report_availability') }}

),

final as (

    select
        scope_type,
        scope_name,
        report,
        arg_max(is_available, checked_at) as is_available,
        arg_max(http_status, checked_at) as http_status,
        arg_max(reason, checked_at) as reason,
        max(checked_day) as checked_day,
        max(checked_at) as checked_at
    from checks
    group by scope_type, scope_name, report

)

select * from final
