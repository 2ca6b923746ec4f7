-- totals_by_copilot_app of the scope records: one row per scope-day with Copilot desktop app use
-- (kept apart from the CLI: GitHub may report the same activity under both on a transition day).
-- Records without the object had no desktop app use.
{{ surface_totals('stg_github_copilot__usage_aggregates', ['scope_type', 'scope_name', 'day'], 'copilot_app') }}
