-- One row per scope and day from the organization-1-day / enterprise-1-day reports, each record
-- parsed once (json_transform); the totals_by_* columns are its breakdown arrays, typed.
with

deduped as (

    {{ latest_source_rows('copilot_usage_aggregate', ['scope_type', 'scope_name', 'day']) }}

),

parsed as (

    select
        *,
        {{ parse_json('record', usage_record_structure({
            'daily_active_users': 'BIGINT',
            'weekly_active_users': 'BIGINT',
            'monthly_active_users': 'BIGINT',
            'monthly_active_chat_users': 'BIGINT',
            'monthly_active_agent_users': 'BIGINT',
            'daily_active_cli_users': 'BIGINT',
            'daily_active_copilot_app_users': 'BIGINT',
            'daily_active_copilot_cloud_agent_users': 'BIGINT',
            'weekly_active_copilot_cloud_agent_users': 'BIGINT',
            'monthly_active_copilot_cloud_agent_users': 'BIGINT',
            'daily_active_copilot_coding_agent_users': 'BIGINT',
            'weekly_active_copilot_coding_agent_users': 'BIGINT',
            'monthly_active_copilot_coding_agent_users': 'BIGINT',
            'daily_active_copilot_code_review_users': 'BIGINT',
            'weekly_active_copilot_code_review_users': 'BIGINT',
            'monthly_active_copilot_code_review_users': 'BIGINT',
            'daily_passive_copilot_code_review_users': 'BIGINT',
            'weekly_passive_copilot_code_review_users': 'BIGINT',
            'monthly_passive_copilot_code_review_users': 'BIGINT',
            'pull_requests': pull_request_structure(),
        })) }} as parsed_record
    from deduped

),

final as (

    select
        parsed.scope_type,
        parsed.scope_name,
        parsed.day,
        parsed.report,
        parsed.parsed_record.organization_id,
        parsed.parsed_record.enterprise_id,
        parsed.parsed_record.daily_active_users,
        parsed.parsed_record.weekly_active_users,
        parsed.parsed_record.monthly_active_users,
        parsed.parsed_record.monthly_active_chat_users,
        parsed.parsed_record.monthly_active_agent_users,
        parsed.parsed_record.daily_active_cli_users,
        parsed.parsed_record.daily_active_copilot_app_users,
        -- "coding agent" fields are being renamed "cloud agent": the new name first, null stays null
        coalesce(
            parsed.parsed_record.daily_active_copilot_cloud_agent_users,
            parsed.parsed_record.daily_active_copilot_coding_agent_users
        ) as daily_active_copilot_cloud_agent_users,
        coalesce(
            parsed.parsed_record.weekly_active_copilot_cloud_agent_users,
            parsed.parsed_record.weekly_active_copilot_coding_agent_users
        ) as weekly_active_copilot_cloud_agent_users,
        coalesce(
            parsed.parsed_record.monthly_active_copilot_cloud_agent_users,
            parsed.parsed_record.monthly_active_copilot_coding_agent_users
        ) as monthly_active_copilot_cloud_agent_users,
        parsed.parsed_record.daily_active_copilot_code_review_users,
        parsed.parsed_record.weekly_active_copilot_code_review_users,
        parsed.parsed_record.monthly_active_copilot_code_review_users,
        parsed.parsed_record.daily_passive_copilot_code_review_users,
        parsed.parsed_record.weekly_passive_copilot_code_review_users,
        parsed.parsed_record.monthly_passive_copilot_code_review_users,
        {{ usage_counter_fields('parsed.parsed_record') }},
        {{ chat_mode_fields('parsed.parsed_record') }},
        {{ pull_request_fields('parsed.parsed_record.pull_requests') }},
        {{ breakdown_fields('parsed.parsed_record') }},
        parsed.record,
        parsed._load_id,
        parsed._loaded_at
    from parsed

)

select * from final
