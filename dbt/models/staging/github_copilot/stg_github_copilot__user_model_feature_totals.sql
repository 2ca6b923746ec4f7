{{ incremental_day_config() }}

-- totals_by_model_feature of the user records exploded: one row per user-day, model and feature.
{{ explode_breakdown(
    'stg_github_copilot__usage_users', 'totals_by_model_feature', {'model': 'model', 'feature': 'feature'}, ['scope_type', 'scope_name', 'day', 'user_id']
) }}
