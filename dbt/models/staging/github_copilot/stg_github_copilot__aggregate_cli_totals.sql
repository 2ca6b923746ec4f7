-- totals_by_cli of the scope records: one row per scope-day with Copilot CLI use (CLI is not in
-- the IDE totals). Records without the object had no CLI use.
{{ surface_totals('stg_github_copilot__usage_aggregates', ['scope_type', 'scope_name', 'day'], 'cli') }}
