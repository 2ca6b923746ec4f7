-- Copilot code review suggestions per comment type and repository: the repos-1-day records'
-- copilot_suggestions_by_comment_type, one row per scope, day, repository and comment type.
{{ explode_pr_comment_types(
    'stg_github_copilot__repos',
    ['scope_type', 'scope_name', 'day', 'repo_key', 'repository_id', 'repository_name'],
) }}
