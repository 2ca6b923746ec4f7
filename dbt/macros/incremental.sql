{#- The first day an incremental mart recomputes: its trailing `repull_days` days (GitHub
    finalises a day 2-3 UTC days late), or earlier when input rows for an older day were loaded
    after the mart's newest load stamp (a backfill or a late re-pull). Marts delete+insert every
    (scope, day) from that day on, so an incremental build gives the same rows as a full refresh
    (rolling windows included). On a full refresh it is the first day ever.

    Args:
        changes_relation: relation or CTE with one row per input day: `day`, `last_loaded_at`.
-#}
{% macro incremental_start_day(changes_relation) -%}
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
                    select coalesce(max(last_loaded_at), timestamptz '1900-01-01 00:00:00+00')
                    from {{ this }}
                )
            )
        )
    {%- else -%}
        (select coalesce(min(all_days.day), date '1900-01-01') from {{ changes_relation }} as all_days)
    {%- endif -%}
{%- endmacro %}
