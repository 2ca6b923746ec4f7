{{ incremental_day_config() }}

-- totals_by_language_feature of the user records exploded: one row per user-day, language and
-- feature.
{{ explode_breakdown(
    'stg_github_copilot__usage_users', 'totals_by_language_feature', {'language': 'language', 'feature': 'feature'},
    ['scope_type', 'scope_name', 'day', 'user_id'], with_interactions=false
) }}
