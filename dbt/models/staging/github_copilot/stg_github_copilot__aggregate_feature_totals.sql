-- totals_by_feature of the scope records exploded: one row per scope-day and feature.
{{ explode_breakdown(
    'stg_github_copilot__usage_aggregates', 'totals_by_feature', {'feature': 'feature'},
    ['scope_type', 'scope_name', 'day']
) }}
