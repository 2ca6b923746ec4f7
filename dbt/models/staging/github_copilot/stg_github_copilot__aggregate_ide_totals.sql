-- totals_by_ide of the scope records exploded: one row per scope-day and IDE.
{{ explode_breakdown(
    'stg_github_copilot__usage_aggregates', 'totals_by_ide', {'ide': 'ide'},
    ['scope_type', 'scope_name', 'day']
) }}
