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

{% macro chat_mode_columns(json_col) -%}
    {{ json_bigint(json_col, '$.chat_panel_agent_mode') }} as chat_panel_agent_mode,
    {{ json_bigint(json_col, '$.chat_panel_ask_mode') }} as chat_panel_ask_mode,
    {{ json_bigint(json_col, '$.chat_panel_custom_mode') }} as chat_panel_custom_mode,
    {{ json_bigint(json_col, '$.chat_panel_edit_mode') }} as chat_panel_edit_mode,
    {{ json_bigint(json_col, '$.chat_panel_plan_mode') }} as chat_panel_plan_mode,
    {{ json_bigint(json_col, '$.chat_panel_unknown_mode') }} as chat_panel_unknown_mode
{%- endmacro %}
