-- day_totals of the organization/enterprise 28-day reports exploded: one row per scope, report
-- end day and day. A line that is itself a day aggregate (no day_totals array) counts as one day.
with

reports as (

    select * from {{ ref('stg_github_copilot__reports_28_day') }}
    where line_type = 'totals'

),

day_entries as (

    select
        reports.scope_type,
        reports.scope_name,
        reports.report,
        reports.report_start_day,
        reports.report_end_day,
        exploded.day_total,
        reports._loaded_at
    from reports,
        unnest(reports.record -> '$.day_totals[*]') as exploded (day_total)

    union all

    select
        scope_type,
        scope_name,
        report,
        report_start_day,
        report_end_day,
        record as day_total,
        _loaded_at
    from reports
    where json_type(record -> '$.day_totals') is distinct from 'ARRAY'
        and record ->> '$.day' is not null

),

typed as (

    select
        scope_type,
        scope_name,
        report,
        report_start_day,
        report_end_day,
        {{ json_date('day_total', '$.day') }} as day,
        {{ json_bigint('day_total', '$.daily_active_users') }} as daily_active_users,
        {{ usage_counter_columns('day_total') }},
        _loaded_at
    from day_entries

),

final as (

    select * from typed
    where day is not null
    qualify row_number() over (
            partition by scope_type, scope_name, report_end_day, day
            order by _loaded_at desc
        ) = 1

)

select * from final
