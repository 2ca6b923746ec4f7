-- totals_by_cli of the user records: one row per user-day with Copilot CLI use (CLI is not in
-- the IDE totals). Records without the object had no CLI use.
with

records as (

    select * from {{ ref('stg_github_copilot__usage_users') }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        user_id,
        {{ json_bigint('record', '$.totals_by_cli.session_count') }} as cli_sessions,
        {{ json_bigint('record', '$.totals_by_cli.request_count') }} as cli_requests,
        {{ json_bigint('record', '$.totals_by_cli.prompt_count') }} as cli_prompts,
        {{ json_bigint('record', '$.totals_by_cli.token_usage.output_tokens_sum') }} as cli_output_tokens,
        {{ json_bigint('record', '$.totals_by_cli.token_usage.prompt_tokens_sum') }} as cli_prompt_tokens,
        {{ json_varchar('record', '$.totals_by_cli.last_known_cli_version.cli_version') }} as cli_version,
        _loaded_at
    from records
    where json_type(record -> '$.totals_by_cli') = 'OBJECT'

)

select * from final
