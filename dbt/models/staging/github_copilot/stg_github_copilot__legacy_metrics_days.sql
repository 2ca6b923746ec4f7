-- Legacy /copilot/metrics day objects, deduplicated: one row per scope and day with the record.
with

source as (

    select * from {{ source('github_copilot', 'copilot_legacy_metrics') }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        record,
        _part,
        _load_id,
        _loaded_at
    from source
    {{ dedupe_latest(['scope_type', 'scope_name', 'day']) }}

)

select * from final
