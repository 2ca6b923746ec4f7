{#- The first day an incremental mart recomputes: its trailing `repull_days` days (GitHub
    finalises a day 2-3 UTC days late), or earlier when input rows for an older day were loaded
    after the mart's newest load stamp (a backfill or a late re-pull). Marts delete+insert every
    (scope, day) from that day on, so an incremental build gives the same rows as a full refresh
    (rolling windows included). On a full refresh it is the first day ever.

    Args:
        changes_relation: relation or CTE with one row per input day: `day`, `last_loaded_at`
            (`days_loaded` writes it).
        this_loaded_at: the load stamp column of the model itself.
-#}
{% macro incremental_start_day(changes_relation, this_loaded_at='last_loaded_at') -%}
    {%- if is_incremental() -%}
        least(
            (
                select coalesce(max(day), date '1900-01-01') - cast({{ var('repull_days', 3) }} as integer)
                from {{ this }}
            ),
            (
                select coalesce(min(changed.day), date '9999-12-31')
                from {{ changes_relation }} as changed
                where changed.last_loaded_at > (
                    select coalesce(max({{ this_loaded_at }}), timestamptz '1900-01-01 00:00:00+00')
                    from {{ this }}
                )
            )
        )
    {%- else -%}
        (select coalesce(min(all_days.day), date '1900-01-01') from {{ changes_relation }} as all_days)
    {%- endif -%}
{%- endmacro %}

{#- The `changes_relation` of incremental_start_day: one row per input day and its newest
    `_loaded_at`, over every input relation (or CTE) of a model. -#}
{% macro days_loaded(inputs) -%}
    {%- for input in inputs %}
    select
        day,
        max(_loaded_at) as last_loaded_at
    from {{ input }}
    group by day
    {%- if not loop.last %}

    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}

{#- For incremental staging tables: `where day >= date '<first day>'`, incremental_start_day
    evaluated when the model compiles. A literal, not a subquery, so DuckDB prunes the input scan
    by its zone maps before any JSON is read; empty on a full build.

    Args:
        source_relation: the relation the model reads (`day`, `_loaded_at`): a raw table or an
            incremental staging table.
-#}
{% macro incremental_day_filter(source_relation) -%}
    {%- if is_incremental() and execute -%}
        {%- set changes -%}
            ({{ days_loaded([source_relation]) }})
        {%- endset -%}
        {%- set first_day_query = 'select ' ~ incremental_start_day(changes, this_loaded_at='_loaded_at') -%}
        {%- set first_day = run_query(first_day_query).columns[0].values()[0] -%}
        where day >= date '{{ first_day }}'
    {%- endif -%}
{%- endmacro %}
