{#- Keep one row per key: the newest load wins (the loader replaces partitions, but staging
    dedupes defensively across loads and part files). -#}
{% macro dedupe_latest(key_columns, loaded_at='_loaded_at') -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ loaded_at }} desc, _load_id desc
    ) = 1
{%- endmacro %}

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

    select
        {%- for column in key_columns %}
        records.{{ column }},
        {%- endfor %}
        records._loaded_at,
        exploded.entry
    from records,
        unnest(records.{{ array_key }}) as exploded (entry)

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
        cast(sum(user_initiated_interactions) as bigint) as user_initiated_interactions,
        cast(sum(code_generations) as bigint) as code_generations,
        cast(sum(code_acceptances) as bigint) as code_acceptances,
        cast(sum(loc_suggested_to_add) as bigint) as loc_suggested_to_add,
        cast(sum(loc_suggested_to_delete) as bigint) as loc_suggested_to_delete,
        cast(sum(loc_added) as bigint) as loc_added,
        cast(sum(loc_deleted) as bigint) as loc_deleted,
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
