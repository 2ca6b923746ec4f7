{{ incremental_day_config() }}

-- totals_by_cli of the user records: one row per user-day with Copilot CLI use (CLI is not in
-- the IDE totals). Records without the object had no CLI use.
{{ surface_totals('stg_github_copilot__usage_users', ['scope_type', 'scope_name', 'day', 'user_id'], 'cli') }}
