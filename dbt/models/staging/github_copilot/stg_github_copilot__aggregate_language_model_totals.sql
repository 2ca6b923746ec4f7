-- totals_by_language_model of the scope records exploded: one row per scope-day, language and
-- model.
{{ explode_breakdown(
    'stg_github_copilot__usage_aggregates', 'totals_by_language_model', {'language': 'language', 'model': 'model'},
    ['scope_type', 'scope_name', 'day'], with_interactions=false
) }}
