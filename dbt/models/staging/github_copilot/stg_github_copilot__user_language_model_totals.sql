{{ incremental_day_config() }}

-- totals_by_language_model of the user records exploded: one row per user-day, language and model.
{{ explode_breakdown(
    'stg_github_copilot__usage_users', 'totals_by_language_model', {'language': 'language', 'model': 'model'},
    ['scope_type', 'scope_name', 'day', 'user_id'], with_interactions=false
) }}
