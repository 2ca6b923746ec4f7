-- Copilot code review suggestions per comment type: pull_requests.copilot_suggestions_by_comment_type
-- of the organization-1-day / enterprise-1-day records, one row per scope, day and comment type.
-- Repeated entries for one comment type are summed (defensive: GitHub sends one per type).
{{ explode_pr_comment_types('stg_github_copilot__usage_aggregates', ['scope_type', 'scope_name', 'day']) }}
