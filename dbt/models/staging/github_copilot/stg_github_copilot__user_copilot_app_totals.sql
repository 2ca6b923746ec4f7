{{ incremental_day_config() }}

-- totals_by_copilot_app of the user records: one row per user-day with Copilot desktop app use
-- (kept apart from the CLI: GitHub may report the same activity under both on a transition day).
-- Records without the object had no desktop app use.
{{ surface_totals('stg_github_copilot__usage_users', ['scope_type', 'scope_name', 'day', 'user_id'], 'copilot_app') }}
