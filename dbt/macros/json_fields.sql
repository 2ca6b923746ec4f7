{#- Typed reads of optional JSON fields: a missing or malformed field becomes null, never an error. -#}

{% macro json_bigint(json_col, path) -%}
    try_cast({{ json_col }} ->> '{{ path }}' as bigint)
{%- endmacro %}

{% macro json_double(json_col, path) -%}
    try_cast({{ json_col }} ->> '{{ path }}' as double)
{%- endmacro %}

{% macro json_varchar(json_col, path) -%}
    ({{ json_col }} ->> '{{ path }}')
{%- endmacro %}

{% macro json_boolean(json_col, path) -%}
    try_cast({{ json_col }} ->> '{{ path }}' as boolean)
{%- endmacro %}

{% macro json_date(json_col, path) -%}
    try_cast({{ json_col }} ->> '{{ path }}' as date)
{%- endmacro %}

{% macro json_timestamp(json_col, path) -%}
    try_cast({{ json_col }} ->> '{{ path }}' as timestamptz)
{%- endmacro %}

{#- The counters GitHub reports at the top level of user and aggregate records and inside every
    breakdown entry (reference §3.5). `with_interactions=false` for breakdowns without a prompt
    count (language x feature, language x model). -#}
{% macro usage_counter_columns(json_col, with_interactions=true) -%}
    {%- if with_interactions %}
    {{ json_bigint(json_col, '$.user_initiated_interaction_count') }} as user_initiated_interactions,
    {%- else %}
    cast(null as bigint) as user_initiated_interactions,
    {%- endif %}
    {{ json_bigint(json_col, '$.code_generation_activity_count') }} as code_generations,
    {{ json_bigint(json_col, '$.code_acceptance_activity_count') }} as code_acceptances,
    {{ json_bigint(json_col, '$.loc_suggested_to_add_sum') }} as loc_suggested_to_add,
    {{ json_bigint(json_col, '$.loc_suggested_to_delete_sum') }} as loc_suggested_to_delete,
    {{ json_bigint(json_col, '$.loc_added_sum') }} as loc_added,
    {{ json_bigint(json_col, '$.loc_deleted_sum') }} as loc_deleted
{%- endmacro %}

{#- Parse-once reads for the big records (users-1-day, organization/enterprise-1-day):
    `parse_json(col, structure)` runs DuckDB's json_transform once per record and yields a typed
    STRUCT; a missing or mistyped field becomes null, exactly like the typed reads above (each
    `->>` parses the whole record again: ~40 of them per user record cost 8x the parse). -#}
{% macro parse_json(json_col, structure) -%}
    json_transform({{ json_col }}, '{{ tojson(structure) }}')
{%- endmacro %}

{#- The counters of a record or breakdown entry (reference §3.5) as a json_transform structure. -#}
{% macro usage_counter_structure() -%}
    {%- set structure = {} -%}
    {%- for key in [
        'user_initiated_interaction_count', 'code_generation_activity_count',
        'code_acceptance_activity_count', 'loc_suggested_to_add_sum', 'loc_suggested_to_delete_sum',
        'loc_added_sum', 'loc_deleted_sum',
    ] -%}
        {%- do structure.update({key: 'BIGINT'}) -%}
    {%- endfor -%}
    {{ return(structure) }}
{%- endmacro %}

{#- The `totals_by_*` breakdown arrays of user and scope records and each entry's dimensions. -#}
{% macro breakdown_arrays() -%}
    {{ return({
        'totals_by_ide': ['ide'],
        'totals_by_feature': ['feature'],
        'totals_by_language_feature': ['language', 'feature'],
        'totals_by_language_model': ['language', 'model'],
        'totals_by_model_feature': ['model', 'feature'],
    }) }}
{%- endmacro %}

{#- The breakdown arrays, the CLI object and the desktop app object of a parsed record, as typed
    columns of the same names. -#}
{% macro breakdown_fields(parsed) -%}
    {%- for array_key in breakdown_arrays() %}
    {{ parsed }}.{{ array_key }},
    {%- endfor %}
    {{ parsed }}.totals_by_cli,
    {{ parsed }}.totals_by_copilot_app
{%- endmacro %}

{#- Every field user and scope records share: counters, chat modes, the `totals_by_*` breakdown
    arrays (typed lists the `user_*_totals` / `aggregate_*_totals` models explode) and the CLI
    object. `extra` adds the fields of one record kind. -#}
{% macro usage_record_structure(extra={}) -%}
    {%- set counters = usage_counter_structure() -%}
    {%- set structure = {'organization_id': 'VARCHAR', 'enterprise_id': 'VARCHAR'} -%}
    {%- do structure.update(counters) -%}
    {%- for column in chat_mode_keys() -%}
        {%- do structure.update({column: 'BIGINT'}) -%}
    {%- endfor -%}
    {%- for array_key, dimensions in breakdown_arrays().items() -%}
        {%- set entry = {} -%}
        {%- for dimension in dimensions -%}
            {%- do entry.update({dimension: 'VARCHAR'}) -%}
        {%- endfor -%}
        {%- do entry.update(counters) -%}
        {%- do structure.update({array_key: [entry]}) -%}
    {%- endfor -%}
    {%- do structure.update({'totals_by_cli': {
        'session_count': 'BIGINT', 'request_count': 'BIGINT', 'prompt_count': 'BIGINT',
        'token_usage': {'output_tokens_sum': 'BIGINT', 'prompt_tokens_sum': 'BIGINT'},
        'last_known_cli_version': {'cli_version': 'VARCHAR'},
    }}) -%}
    {%- do structure.update({'totals_by_copilot_app': {
        'session_count': 'BIGINT', 'request_count': 'BIGINT', 'prompt_count': 'BIGINT',
        'token_usage': {'output_tokens_sum': 'BIGINT', 'prompt_tokens_sum': 'BIGINT'},
    }}) -%}
    {%- do structure.update(extra) -%}
    {{ return(structure) }}
{%- endmacro %}

{#- The counter columns of a parsed record or entry (`parsed` is a STRUCT from parse_json). -#}
{% macro usage_counter_fields(parsed, with_interactions=true) -%}
    {%- if with_interactions %}
    {{ parsed }}.user_initiated_interaction_count as user_initiated_interactions,
    {%- else %}
    cast(null as bigint) as user_initiated_interactions,
    {%- endif %}
    {{ parsed }}.code_generation_activity_count as code_generations,
    {{ parsed }}.code_acceptance_activity_count as code_acceptances,
    {{ parsed }}.loc_suggested_to_add_sum as loc_suggested_to_add,
    {{ parsed }}.loc_suggested_to_delete_sum as loc_suggested_to_delete,
    {{ parsed }}.loc_added_sum as loc_added,
    {{ parsed }}.loc_deleted_sum as loc_deleted
{%- endmacro %}

{#- Chat panel prompts per mode, as GitHub names them (same name in the staged columns). -#}
{% macro chat_mode_keys() -%}
    {{ return(['chat_panel_agent_mode', 'chat_panel_ask_mode', 'chat_panel_custom_mode',
               'chat_panel_edit_mode', 'chat_panel_plan_mode', 'chat_panel_unknown_mode']) }}
{%- endmacro %}

{% macro chat_mode_fields(parsed) -%}
    {%- for column in chat_mode_keys() %}
    {{ parsed }}.{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The CLI object of a parsed record as columns (null when the record has no CLI use). -#}
{% macro cli_total_fields(parsed) -%}
    {{ parsed }}.totals_by_cli.session_count as cli_sessions,
    {{ parsed }}.totals_by_cli.request_count as cli_requests,
    {{ parsed }}.totals_by_cli.prompt_count as cli_prompts,
    {{ parsed }}.totals_by_cli.token_usage.output_tokens_sum as cli_output_tokens,
    {{ parsed }}.totals_by_cli.token_usage.prompt_tokens_sum as cli_prompt_tokens,
    {{ parsed }}.totals_by_cli.last_known_cli_version.cli_version as cli_version
{%- endmacro %}

{#- The Copilot desktop app object (totals_by_copilot_app) of a parsed record as columns (null when
    the record has no desktop app use). -#}
{% macro copilot_app_total_fields(parsed) -%}
    {{ parsed }}.totals_by_copilot_app.session_count as app_sessions,
    {{ parsed }}.totals_by_copilot_app.request_count as app_requests,
    {{ parsed }}.totals_by_copilot_app.prompt_count as app_prompts,
    {{ parsed }}.totals_by_copilot_app.token_usage.output_tokens_sum as app_output_tokens,
    {{ parsed }}.totals_by_copilot_app.token_usage.prompt_tokens_sum as app_prompt_tokens
{%- endmacro %}
