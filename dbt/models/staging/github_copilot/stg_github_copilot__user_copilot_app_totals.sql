{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['scope_type', 'scope_name', 'day'],
        on_schema_change='sync_all_columns',
    )
}}

-- totals_by_copilot_app of the user records: one row per user-day with Copilot desktop app use
-- (kept apart from the CLI: GitHub may report the same activity under both on a transition day).
-- Records without the object had no desktop app use.
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
        {{ copilot_app_total_fields('records') }},
        records._loaded_at
    from records
    where records.totals_by_copilot_app is not null

)

select * from final
