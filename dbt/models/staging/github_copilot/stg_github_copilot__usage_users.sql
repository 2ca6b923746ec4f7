-- One row per scope, day and user from the users-1-day reports.
with

source as (

    select * from {{ source('github_copilot', 'copilot_usage_users') }}

),

deduped as (

    select * from source
    {{ dedupe_latest(['scope_type', 'scope_name', 'day', 'user_id']) }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        user_id,
        {{ json_varchar('record', '$.user_login') }} as user_login,
        {{ json_varchar('record', '$.organization_id') }} as organization_id,
        {{ json_varchar('record', '$.enterprise_id') }} as enterprise_id,
        {{ usage_counter_columns('record') }},
        {{ chat_mode_columns('record') }},
        {{ json_boolean('record', '$.used_chat') }} as used_chat,
        {{ json_boolean('record', '$.used_agent') }} as used_agent,
        {{ json_boolean('record', '$.used_cli') }} as used_cli,
        {{ json_boolean('record', '$.used_copilot_code_review_active') }} as used_copilot_code_review_active,
        {{ json_boolean('record', '$.used_copilot_code_review_passive') }}
            as used_copilot_code_review_passive,
        coalesce(
            {{ json_boolean('record', '$.used_copilot_cloud_agent') }},
            {{ json_boolean('record', '$.used_copilot_coding_agent') }}
        ) as used_copilot_cloud_agent,
        {{ json_boolean('record', '$.used_copilot_app') }} as used_copilot_app,
        {{ json_double('record', '$.ai_credits_used') }} as ai_credits_used,
        {{ json_varchar('record', '$.ai_adoption_phase.phase') }} as ai_adoption_phase,
        {{ json_bigint('record', '$.ai_adoption_phase.phase_number') }} as ai_adoption_phase_number,
        record,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
