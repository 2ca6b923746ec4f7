-- totals_by_cli of the scope records: one row per scope-day with Copilot CLI use (CLI is not in
-- the IDE totals). Records without the object had no CLI use.
with

records as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

final as (

    select
        records.scope_type,
        records.scope_name,
        records.day,
        {{ cli_total_fields('records') }},
        records._loaded_at
    from records
    where records.totals_by_cli is not null

)

select * from final
