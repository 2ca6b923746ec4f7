-- repos-1-day: one row per scope, day and repository with activity. GitHub documents few fields,
-- so the record is kept whole next to the fields known so far.
with

source as (

    select * from {{ source('github_copilot', 'copilot_repos') }}

),

deduped as (

    select * from source
    {{ dedupe_latest(['scope_type', 'scope_name', 'day', 'repo_key']) }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        repo_key,
        coalesce(
            {{ json_bigint('record', '$.repository_id') }},
            {{ json_bigint('record', '$.repository.id') }},
            {{ json_bigint('record', '$.repo_id') }}
        ) as repository_id,
        coalesce(
            {{ json_varchar('record', '$.repository_name') }},
            {{ json_varchar('record', '$.repository.full_name') }},
            {{ json_varchar('record', '$.repository.name') }},
            {{ json_varchar('record', '$.repo_name') }},
            {{ json_varchar('record', '$.name') }}
        ) as repository_name,
        {{ json_bigint('record', '$.pull_requests.total_created') }} as pull_requests_created,
        {{ json_bigint('record', '$.pull_requests.total_reviewed') }} as pull_requests_reviewed,
        {{ json_bigint('record', '$.pull_requests.total_merged') }} as pull_requests_merged,
        {{ json_bigint('record', '$.pull_requests.total_created_by_copilot') }} as pull_requests_created_by_copilot,
        {{ json_bigint('record', '$.pull_requests.total_reviewed_by_copilot') }}
            as pull_requests_reviewed_by_copilot,
        record,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
