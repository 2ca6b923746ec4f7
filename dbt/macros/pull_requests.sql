{#- The `pull_requests` object of aggregate and repos-1-day records (reference §3.5), as a
    json_transform structure: counters BIGINT, medians (minutes) DOUBLE, and the Copilot code
    review suggestions per comment type as a typed list. A missing field becomes null. -#}
{% macro pull_request_counter_keys() -%}
    {{ return([
        'total_created', 'total_reviewed', 'total_merged', 'total_suggestions',
        'total_applied_suggestions', 'total_created_by_copilot', 'total_reviewed_by_copilot',
        'total_merged_created_by_copilot', 'total_merged_reviewed_by_copilot',
        'total_copilot_suggestions', 'total_copilot_applied_suggestions',
    ]) }}
{%- endmacro %}

{% macro pull_request_median_keys() -%}
    {{ return([
        'median_minutes_to_merge', 'median_minutes_to_merge_copilot_authored',
        'median_minutes_to_merge_copilot_reviewed',
    ]) }}
{%- endmacro %}

{% macro pull_request_structure(with_comment_types=true) -%}
    {%- set structure = {} -%}
    {%- for key in pull_request_counter_keys() -%}
        {%- do structure.update({key: 'BIGINT'}) -%}
    {%- endfor -%}
    {%- for key in pull_request_median_keys() -%}
        {%- do structure.update({key: 'DOUBLE'}) -%}
    {%- endfor -%}
    {%- if with_comment_types -%}
        {%- do structure.update({'copilot_suggestions_by_comment_type': [{
            'comment_type': 'VARCHAR',
            'total_copilot_suggestions': 'BIGINT',
            'total_copilot_applied_suggestions': 'BIGINT',
        }]}) -%}
    {%- endif -%}
    {{ return(structure) }}
{%- endmacro %}

{#- The staged column names of the pull_requests fields, GitHub's name -> column. -#}
{% macro pull_request_columns() -%}
    {{ return({
        'total_created': 'pull_requests_created',
        'total_reviewed': 'pull_requests_reviewed',
        'total_merged': 'pull_requests_merged',
        'median_minutes_to_merge': 'median_minutes_to_merge',
        'total_suggestions': 'pull_request_suggestions',
        'total_applied_suggestions': 'pull_request_applied_suggestions',
        'total_created_by_copilot': 'pull_requests_created_by_copilot',
        'total_reviewed_by_copilot': 'pull_requests_reviewed_by_copilot',
        'total_merged_created_by_copilot': 'pull_requests_merged_created_by_copilot',
        'total_merged_reviewed_by_copilot': 'pull_requests_merged_reviewed_by_copilot',
        'median_minutes_to_merge_copilot_authored': 'median_minutes_to_merge_copilot_authored',
        'median_minutes_to_merge_copilot_reviewed': 'median_minutes_to_merge_copilot_reviewed',
        'total_copilot_suggestions': 'pull_request_copilot_suggestions',
        'total_copilot_applied_suggestions': 'pull_request_copilot_applied_suggestions',
    }) }}
{%- endmacro %}

{#- The pull_requests fields of a parsed record as columns, named by pull_request_columns(), plus
    `has_pull_requests` (the record carries the object) and the comment-type list.

    Args:
        parsed: the parsed pull_requests STRUCT (from parse_json with pull_request_structure()).
        fallback: optional parsed STRUCT with the same keys read when `parsed` lacks one (a record
            that puts the fields at its top level instead of inside pull_requests).
-#}
{% macro pull_request_fields(parsed, fallback=none) -%}
    {%- if fallback is none %}
    ({{ parsed }} is not null) as has_pull_requests,
    {%- else %}
    ({{ parsed }} is not null or {{ fallback }}.total_created is not null) as has_pull_requests,
    {%- endif %}
    {%- for key, column in pull_request_columns().items() %}
    {%- if fallback is none %}
    {{ parsed }}.{{ key }} as {{ column }},
    {%- else %}
    coalesce({{ parsed }}.{{ key }}, {{ fallback }}.{{ key }}) as {{ column }},
    {%- endif %}
    {%- endfor %}
    {%- if fallback is none %}
    {{ parsed }}.copilot_suggestions_by_comment_type as copilot_suggestions_by_comment_type
    {%- else %}
    coalesce({{ parsed }}.copilot_suggestions_by_comment_type, {{ fallback }}.copilot_suggestions_by_comment_type)
        as copilot_suggestions_by_comment_type
    {%- endif %}
{%- endmacro %}

{#- Explode the `copilot_suggestions_by_comment_type` list of a staged model into one row per
    comment type (null type -> 'unknown'); repeated entries for one type are summed.

    Args:
        base_model: staging model with `key_columns`, `_loaded_at` and the typed list column.
        key_columns: its key columns (the output keeps them, plus comment_type).
-#}
{% macro explode_pr_comment_types(base_model, key_columns) %}

with

records as (

    select * from {{ ref(base_model) }}
    where copilot_suggestions_by_comment_type is not null

),

entries as (

    {{ unnest_entries('records', key_columns, 'copilot_suggestions_by_comment_type') }}

),

final as (

    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        coalesce(entry.comment_type, 'unknown') as comment_type,
        cast(sum(entry.total_copilot_suggestions) as bigint) as copilot_suggestions,
        cast(sum(entry.total_copilot_applied_suggestions) as bigint) as copilot_applied_suggestions,
        max(_loaded_at) as _loaded_at
    from entries
    group by
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        coalesce(entry.comment_type, 'unknown')

)

select * from final

{% endmacro %}

{#- A weekly (or longer) stand-in for a median GitHub gives per day: the mean of the daily
    medians weighted by that day's merged pull requests, over days with merges and a median.
    Null when no day qualifies. An approximation: the true median of the pooled merges is not
    recoverable from daily medians. The weighted sum is exact (DECIMAL, medians to 1e-9 minute),
    so a rebuild gives the same bits whatever order DuckDB adds the days in. -#}
{% macro merge_weighted_median(median_col, merged_col) -%}
    case
        when coalesce(sum({{ merged_col }}) filter (
            where {{ merged_col }} > 0 and {{ median_col }} is not null
        ), 0) > 0
            then cast(sum(cast({{ median_col }} as decimal(38, 9)) * {{ merged_col }}) filter (
                where {{ merged_col }} > 0 and {{ median_col }} is not null
            ) as double) / sum({{ merged_col }}) filter (where {{ merged_col }} > 0 and {{ median_col }} is not null)
    end
{%- endmacro %}
