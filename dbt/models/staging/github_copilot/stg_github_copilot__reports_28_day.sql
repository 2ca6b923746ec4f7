-- The *-28-day/latest reports as landed: one row per scope, report, report end day and line.
with

deduped as (

    {{ latest_source_rows('copilot_reports_28_day', ['scope_type', 'scope_name', 'report', 'day', 'line_key']) }}

),

final as (

    select
        scope_type,
        scope_name,
        report,
        coalesce(report_end_day, day) as report_end_day,
        coalesce(report_start_day, {{ json_date('record', '$.report_start_day') }}) as report_start_day,
        line_key,
        case when report = 'users-28-day' then 'user_line' else 'totals' end as line_type,
        record,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
