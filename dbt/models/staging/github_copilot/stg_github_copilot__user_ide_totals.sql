{{ incremental_day_config() }}

-- totals_by_ide of the user records exploded: one row per user-day and IDE.
{{ explode_breakdown(
    'stg_github_copilot__usage_users', 'totals_by_ide', {'ide': 'ide'},
    ['scope_type', 'scope_name', 'day', 'user_id']
) }}
