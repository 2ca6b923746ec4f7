-- Quarantined lines (never loaded into the report tables), with the reason.
with

source as (

    select * from {{ source('github_copilot', 'quarantine') }}

),

final as (

    select
        load_id,
        scope_type,
        scope_name,
        report,
        day,
        _part as part_file,
        _line as line_number,
        reason,
        quarantined_at,
        md5(concat_ws(
            '|', load_id, scope_type, scope_name, report, cast(day as varchar), _part,
            cast(coalesce(_line, -1) as varchar),
            cast(row_number() over (
                partition by load_id, scope_type, scope_name, report, day, _part, _line
                order by quarantined_at
            ) as varchar)
        )) as quarantine_id
    from source

)

select * from final
