-- repos-1-day: one row per scope, day and repository with activity. GitHub documents few fields,
-- so every read is tolerant: the repository's id and name under any of the spellings seen, the
-- pull-request fields inside a `pull_requests` object (the aggregate record's shape) or at the
-- record's top level; the record is kept whole beside them.
with

deduped as (

    {{ latest_source_rows('copilot_repos', ['scope_type', 'scope_name', 'day', 'repo_key']) }}

),

parsed as (

    select
        *,
        {%- set top_level = pull_request_structure() %}
        {%- do top_level.update({
            'repository_id': 'BIGINT',
            'repo_id': 'BIGINT',
            'repository_name': 'VARCHAR',
            'repo_name': 'VARCHAR',
            'name': 'VARCHAR',
            'repository': {'id': 'BIGINT', 'full_name': 'VARCHAR', 'name': 'VARCHAR'},
            'pull_requests': pull_request_structure(),
        }) %}
        {{ parse_json('record', top_level) }} as parsed_record
    from deduped

),

final as (

    select
        parsed.scope_type,
        parsed.scope_name,
        parsed.day,
        parsed.repo_key,
        coalesce(
            parsed.parsed_record.repository_id,
            parsed.parsed_record.repository.id,
            parsed.parsed_record.repo_id
        ) as repository_id,
        coalesce(
            parsed.parsed_record.repository_name,
            parsed.parsed_record.repository.full_name,
            parsed.parsed_record.repository.name,
            parsed.parsed_record.repo_name,
            parsed.parsed_record.name
        ) as repository_name,
        {{ pull_request_fields('parsed.parsed_record.pull_requests', fallback='parsed.parsed_record') }},
        parsed.record,
        parsed._load_id,
        parsed._loaded_at
    from parsed

)

select * from final
