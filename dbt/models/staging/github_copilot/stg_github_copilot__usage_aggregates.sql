-- One row per scope and day from the organization-1-day / enterprise-1-day reports.
with

source as (

    select * from {{ source('github_copilot', 'copilot_usage_aggregate') }}

),

deduped as (

    select * from source
    {{ dedupe_latest(['scope_type', 'scope_name', 'day']) }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        report,
        {{ json_varchar('record', '$.organization_id') }} as organization_id,
        {{ json_varchar('record', '$.enterprise_id') }} as enterprise_id,
        {{ json_bigint('record', '$.daily_active_users') }} as daily_active_users,
        {{ json_bigint('record', '$.weekly_active_users') }} as weekly_active_users,
        {{ json_bigint('record', '$.monthly_active_users') }} as monthly_active_users,
        {{ json_bigint('record', '$.monthly_active_chat_users') }} as monthly_active_chat_users,
        {{ json_bigint('record', '$.monthly_active_agent_users') }} as monthly_active_agent_users,
        {{ json_bigint('record', '$.daily_active_cli_users') }} as daily_active_cli_users,
        {{ json_bigint('record', '$.daily_active_copilot_app_users') }} as daily_active_copilot_app_users,
        {{ json_bigint('record', '$.daily_active_copilot_cloud_agent_users') }}
            as daily_active_copilot_cloud_agent_users,
        {{ json_bigint('record', '$.daily_active_copilot_code_review_users') }}
            as daily_active_copilot_code_review_users,
        {{ usage_counter_columns('record') }},
        {{ chat_mode_columns('record') }},
        {{ json_bigint('record', '$.pull_requests.total_created') }} as pull_requests_created,
        {{ json_bigint('record', '$.pull_requests.total_reviewed') }} as pull_requests_reviewed,
        {{ json_bigint('record', '$.pull_requests.total_merged') }} as pull_requests_merged,
        {{ json_bigint('record', '$.pull_requests.total_created_by_copilot') }}
            as pull_requests_created_by_copilot,
        {{ json_bigint('record', '$.pull_requests.total_reviewed_by_copilot') }}
            as pull_requests_reviewed_by_copilot,
        record,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
