-- Legacy /copilot/metrics: one row per scope and day, with code completion counts summed over
-- editors, models and languages and chat counts summed over editors and models.
with

legacy_days as (

    select * from {{ ref('stg_github_copilot__legacy_metrics_days') }}

),

completions as (

    select * from {{ ref('stg_github_copilot__legacy_code_completions') }}

),

completion_totals as (

    select
        scope_type,
        scope_name,
        day,
        cast(sum(code_suggestions) as bigint) as code_suggestions,
        cast(sum(code_acceptances) as bigint) as code_acceptances,
        cast(sum(code_lines_suggested) as bigint) as code_lines_suggested,
        cast(sum(code_lines_accepted) as bigint) as code_lines_accepted
    from completions
    group by scope_type, scope_name, day

),

ide_chat_models as (

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        {{ json_bigint('models.model_entry', '$.total_chats') }} as chats,
        {{ json_bigint('models.model_entry', '$.total_chat_insertion_events') }} as chat_insertion_events,
        {{ json_bigint('models.model_entry', '$.total_chat_copy_events') }} as chat_copy_events
    from legacy_days,
        unnest(legacy_days.record -> '$.copilot_ide_chat.editors[*]') as editors (editor_entry),
        unnest(editors.editor_entry -> '$.models[*]') as models (model_entry)

),

ide_chat_totals as (

    select
        scope_type,
        scope_name,
        day,
        cast(sum(chats) as bigint) as ide_chats,
        cast(sum(chat_insertion_events) as bigint) as ide_chat_insertion_events,
        cast(sum(chat_copy_events) as bigint) as ide_chat_copy_events
    from ide_chat_models
    group by scope_type, scope_name, day

),

dotcom_chat_totals as (

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        cast(sum({{ json_bigint('models.model_entry', '$.total_chats') }}) as bigint) as dotcom_chats
    from legacy_days,
        unnest(legacy_days.record -> '$.copilot_dotcom_chat.models[*]') as models (model_entry)
    group by legacy_days.scope_type, legacy_days.scope_name, legacy_days.day

),

final as (

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        {{ json_bigint('legacy_days.record', '$.total_active_users') }} as total_active_users,
        {{ json_bigint('legacy_days.record', '$.total_engaged_users') }} as total_engaged_users,
        {{ json_bigint('legacy_days.record', '$.copilot_ide_code_completions.total_engaged_users') }}
            as code_completion_engaged_users,
        {{ json_bigint('legacy_days.record', '$.copilot_ide_chat.total_engaged_users') }}
            as ide_chat_engaged_users,
        {{ json_bigint('legacy_days.record', '$.copilot_dotcom_chat.total_engaged_users') }}
            as dotcom_chat_engaged_users,
        {{ json_bigint('legacy_days.record', '$.copilot_dotcom_pull_requests.total_engaged_users') }}
            as dotcom_pull_requests_engaged_users,
        completion_totals.code_suggestions,
        completion_totals.code_acceptances,
        completion_totals.code_lines_suggested,
        completion_totals.code_lines_accepted,
        ide_chat_totals.ide_chats,
        ide_chat_totals.ide_chat_insertion_events,
        ide_chat_totals.ide_chat_copy_events,
        dotcom_chat_totals.dotcom_chats,
        legacy_days._load_id,
        legacy_days._loaded_at
    from legacy_days
    left join completion_totals
        on {{ keys_match('legacy_days', 'completion_totals', ['scope_type', 'scope_name', 'day']) }}
    left join ide_chat_totals
        on {{ keys_match('legacy_days', 'ide_chat_totals', ['scope_type', 'scope_name', 'day']) }}
    left join dotcom_chat_totals
        on {{ keys_match('legacy_days', 'dotcom_chat_totals', ['scope_type', 'scope_name', 'day']) }}

)

select * from final
