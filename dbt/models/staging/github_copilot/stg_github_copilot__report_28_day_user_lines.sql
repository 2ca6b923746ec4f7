-- users-28-day lines: one row per scope, report end day, day and user.
with

reports as (

    select * from {{ ref('stg_github_copilot__reports_28_day') }}
    where line_type = 'user_line'

),

typed as (

    select
        scope_type,
        scope_name,
        report_start_day,
        report_end_day,
        {{ json_date('record', '$.day') }} as day,
        {{ json_bigint('record', '$.user_id') }} as user_id,
        {{ usage_counter_columns('record') }},
        _loaded_at
    from reports

),

final as (

    select * from typed
    where day is not null and user_id is not null
    qualify row_number() over (
            partition by scope_type, scope_name, report_end_day, day, user_id
            order by _loaded_at desc
        ) = 1

)

select * from final
