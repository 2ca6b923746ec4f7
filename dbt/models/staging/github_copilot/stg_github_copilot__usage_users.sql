{{ incremental_day_config() }}

-- One row per scope, day and user from the users-1-day reports. An incremental table rather
-- than a view: each record is parsed once (json_transform), and a daily build parses only the
-- days loaded since the last build plus the re-pull window. The totals_by_* columns are the
-- record's breakdown arrays, typed; the stg_github_copilot__user_*_totals models explode them.
with

deduped as (

    {{ latest_source_rows('copilot_usage_users', ['scope_type', 'scope_name', 'day', 'user_id'], incremental=true) }}

),

parsed as (

    select
        *,
        {{ parse_json('record', usage_record_structure({
            'user_login': 'VARCHAR',
            'used_chat': 'BOOLEAN',
            'used_agent': 'BOOLEAN',
            'used_cli': 'BOOLEAN',
            'used_copilot_code_review_active': 'BOOLEAN',
            'used_copilot_code_review_passive': 'BOOLEAN',
            'used_copilot_cloud_agent': 'BOOLEAN',
            'used_copilot_coding_agent': 'BOOLEAN',
            'used_copilot_app': 'BOOLEAN',
            'ai_credits_used': 'DOUBLE',
            'ai_adoption_phase': {'phase': 'VARCHAR', 'phase_number': 'BIGINT'},
        })) }} as parsed_record
    from deduped

),

final as (

    select
        parsed.scope_type,
        parsed.scope_name,
        parsed.day,
        parsed.user_id,
        parsed.parsed_record.user_login,
        parsed.parsed_record.organization_id,
        parsed.parsed_record.enterprise_id,
        {{ usage_counter_fields('parsed.parsed_record') }},
        {{ chat_mode_fields('parsed.parsed_record') }},
        parsed.parsed_record.used_chat,
        parsed.parsed_record.used_agent,
        parsed.parsed_record.used_cli,
        parsed.parsed_record.used_copilot_code_review_active,
        parsed.parsed_record.used_copilot_code_review_passive,
        coalesce(
            parsed.parsed_record.used_copilot_cloud_agent, parsed.parsed_record.used_copilot_coding_agent
        ) as used_copilot_cloud_agent,
        parsed.parsed_record.used_copilot_app,
        parsed.parsed_record.ai_credits_used,
        parsed.parsed_record.ai_adoption_phase.phase as ai_adoption_phase,
        parsed.parsed_record.ai_adoption_phase.phase_number as ai_adoption_phase_number,
        {{ breakdown_fields('parsed.parsed_record') }},
        parsed._load_id,
        parsed._loaded_at
    from parsed

)

select * from final
