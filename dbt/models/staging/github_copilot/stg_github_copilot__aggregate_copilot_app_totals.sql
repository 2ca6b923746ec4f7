-- totals_by_copilot_app of the scope records: one row per scope-day with Copilot desktop app use
-- (kept apart from the CLI: GitHub may report the same activity under both on a transition day).
-- Records without the object had no desktop app use.
with

records as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

final as (

    select
        records.scope_type,
        records.scope_name,
        records.day,
        {{ copilot_app_total_fields('records') }},
        records._loaded_at
    from records
    where records.totals_by_copilot_app is not null

)

select * from final
