{#- Keep one row per key: the newest load wins (the loader replaces partitions, but staging
    dedupes defensively across loads and part files). -#}
{% macro dedupe_latest(key_columns, loaded_at='_loaded_at') -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ loaded_at }} desc, _load_id desc
    ) = 1
{%- endmacro %}

{#- The config of the day-partitioned incremental tables: the staging users and user-teams
    records and what is exploded from them (columns follow the raw JSON: sync_all_columns), and
    the daily marts (columns only ever added: append_new_columns). A build deletes and re-inserts
    every scope-day it reads again (incremental_day_filter / incremental_start_day). -#}
{% macro incremental_day_config(on_schema_change='sync_all_columns') -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['scope_type', 'scope_name', 'day'],
        on_schema_change=on_schema_change,
    ) }}
{%- endmacro %}

{#- The rows of a raw github_copilot table, the newest load per key (dedupe_latest).

    Args:
        table: the source table, e.g. 'copilot_billing'.
        key_columns: its key columns.
        incremental: read only the days incremental_day_filter names (an incremental model).
-#}
{% macro latest_source_rows(table, key_columns, incremental=false) -%}
    select * from {{ source('github_copilot', table) }}
    {%- if incremental %}
    {{ incremental_day_filter(source('github_copilot', table)) }}
    {%- endif %}
    {{ dedupe_latest(key_columns) }}
{%- endmacro %}

{#- One row per breakdown entry of a typed list column: the key columns, `_loaded_at` and the
    entry as `entry`.

    Args:
        records: the relation or CTE alias that holds the list.
        key_columns: key columns kept beside each entry.
        array_column: the typed list column.
-#}
{% macro unnest_entries(records, key_columns, array_column) -%}
    select
        {%- for column in key_columns %}
        {{ records }}.{{ column }},
        {%- endfor %}
        {{ records }}._loaded_at,
        exploded.entry
    from {{ records }},
        unnest({{ records }}.{{ array_column }}) as exploded (entry)
{%- endmacro %}

{#- The Copilot CLI (totals_by_cli) or desktop app (totals_by_copilot_app) object of a staged
    record model as columns: one row per key with use of it (records without the object had
    none). An incremental model reads only the base model's new and re-pulled days.

    Args:
        base_model: staging model with the key columns, `_loaded_at` and the typed object.
        key_columns: its key columns (scope, day and, for the users report, user).
        surface: 'cli' or 'copilot_app'.
-#}
{% macro surface_totals(base_model, key_columns, surface) %}

with

records as (

    select * from {{ ref(base_model) }}
    {{ incremental_day_filter(ref(base_model)) }}

),

final as (

    select
        {%- for column in key_columns %}
        records.{{ column }},
        {%- endfor %}
        {% if surface == 'cli' -%}
        {{ cli_total_fields('records') }},
        {%- elif surface == 'copilot_app' -%}
        {{ copilot_app_total_fields('records') }},
        {%- else -%}
        {{ exceptions.raise_compiler_error("surface_totals: unknown surface " ~ surface) }}
        {%- endif %}
        records._loaded_at
    from records
    where records.totals_by_{{ surface }} is not null

)

select * from final

{% endmacro %}

{#- Explode one `totals_by_*` array of a staged record model into one row per dimension value.
    Repeated entries for the same value are summed (defensive: GitHub sends one per value).

    Args:
        base_model: staging model with the key columns, `_loaded_at` and the array as a typed
            list column of the same name (parsed once by `parse_json`).
        array_key: the array, e.g. 'totals_by_ide'.
        dimensions: {output column: entry field}, e.g. {'ide': 'ide'}.
        key_columns: key columns of the base model (scope, day, user).
        with_interactions: whether entries carry user_initiated_interaction_count.
    An incremental model (the user breakdowns) reads only the base model's new and re-pulled days.
-#}
{% macro explode_breakdown(base_model, array_key, dimensions, key_columns, with_interactions=true) %}

with

records as (

    select * from {{ ref(base_model) }}
    {{ incremental_day_filter(ref(base_model)) }}

),

entries as (

    {{ unnest_entries('records', key_columns, array_key) }}

),

typed as (

    select
        {%- for column in key_columns %}
        entries.{{ column }},
        {%- endfor %}
        {%- for output, field in dimensions.items() %}
        coalesce(entries.entry.{{ field }}, 'unknown') as {{ output }},
        {%- endfor %}
        {{ usage_counter_fields('entries.entry', with_interactions) }},
        entries._loaded_at
    from entries

),

final as (

    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        {%- for output in dimensions %}
        {{ output }},
        {%- endfor %}
        {%- for counter in [
            'user_initiated_interactions', 'code_generations', 'code_acceptances', 'loc_suggested_to_add',
            'loc_suggested_to_delete', 'loc_added', 'loc_deleted',
        ] %}
        cast(sum({{ counter }}) as bigint) as {{ counter }},
        {%- endfor %}
        max(_loaded_at) as _loaded_at
    from typed
    group by
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        {%- for output in dimensions %}
        {{ output }}{% if not loop.last %},{% endif %}
        {%- endfor %}

)

select * from final

{% endmacro %}
