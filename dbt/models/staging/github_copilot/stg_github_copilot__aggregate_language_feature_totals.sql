-- totals_by_language_feature of the scope records exploded: one row per scope-day, language
-- and feature.
{{ explode_breakdown(
    'stg_github_copilot__usage_aggregates', 'totals_by_language_feature', {'language': 'language', 'feature': 'feature'},
    ['scope_type', 'scope_name', 'day'], with_interactions=false
) }}
