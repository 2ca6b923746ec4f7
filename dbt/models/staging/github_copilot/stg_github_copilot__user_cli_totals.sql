{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['scope_type', 'scope_name', 'day'],
        on_schema_change='sync_all_columns',
    )
}}

-- totals_by_cli of the user records: one row per user-day with Copilot CLI use (CLI is not in
-- the IDE totals). Records without the object had no CLI use.
with

records as (

    select * from {{ ref('stg_github_copilot__usage_users') }}
    {{ incremental_day_filter(ref('stg_github_copilot__usage_users')) }}

),

final as (

    select
        records.scope_type,
        records.scope_name,
        records.day,
        records.user_id,
        {{ cli_total_fields('records') }},
        records._loaded_at
    from records
    where records.totals_by_cli is not null

)

select * from final
