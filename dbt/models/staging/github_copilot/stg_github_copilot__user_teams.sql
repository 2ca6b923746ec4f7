{{ incremental_day_config() }}

-- user-teams-1-day: one row per scope, day, user and team (teams with fewer than 5 seated users
-- are left out by GitHub). An incremental table like stg_github_copilot__usage_users: a daily
-- build parses only new and re-pulled days.
with

deduped as (

    {{ latest_source_rows(
        'copilot_user_teams', ['scope_type', 'scope_name', 'day', 'user_id', 'team_id'], incremental=true
    ) }}

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
