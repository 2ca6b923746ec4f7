{{ incremental_day_config() }}

-- totals_by_feature of the user records exploded: one row per user-day and feature.
{{ explode_breakdown(
    'stg_github_copilot__usage_users', 'totals_by_feature', {'feature': 'feature'},
    ['scope_type', 'scope_name', 'day', 'user_id']
) }}
