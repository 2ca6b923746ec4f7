-- totals_by_model_feature of the scope records exploded: one row per scope-day, model and feature.
{{ explode_breakdown(
    'stg_github_copilot__usage_aggregates', 'totals_by_model_feature', {'model': 'model', 'feature': 'feature'}, ['scope_type', 'scope_name', 'day']
) }}
