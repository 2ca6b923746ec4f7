{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['scope_type', 'scope_name', 'day'],
        on_schema_change='sync_all_columns',
    )
}}

-- user-teams-1-day: one row per scope, day, user and team (teams with fewer than 5 seated users
-- are left out by GitHub). An incremental table like stg_github_copilot__usage_users: a daily
-- build parses only new and re-pulled days.
with

source as (

    select * from {{ source('github_copilot', 'copilot_user_teams') }}
    {{ incremental_day_filter(source('github_copilot', 'copilot_user_teams')) }}

),

deduped as (

    select * from source
    {{ dedupe_latest(['scope_type', 'scope_name', 'day', 'user_id', 'team_id']) }}

),

parsed as (

    select
        *,
        {{ parse_json('record', {'user_login': 'VARCHAR', 'slug': 'VARCHAR', 'team_slug': 'VARCHAR'}) }}
            as parsed_record
    from deduped

),

final as (

    select
        parsed.scope_type,
        parsed.scope_name,
        parsed.day,
        parsed.user_id,
        parsed.team_id,
        parsed.parsed_record.user_login,
        parsed._load_id,
        parsed._loaded_at,
        coalesce(parsed.parsed_record.slug, parsed.parsed_record.team_slug) as team_slug
    from parsed

)

select * from final
