{#- Code completion lines per key: the code_completion entries of a totals_by_feature staging
    model summed (the scope-days of the aggregate reports or the member-days of the users report).
    Absent entries give no row; callers left join and read a missing row as 0.

    Args:
        feature_totals: relation or CTE with `feature`, `loc_suggested_to_add` and `loc_added`.
        key_columns: the key it is summed to, e.g. ['scope_type', 'scope_name', 'day'].
-#}
{% macro completion_lines(feature_totals, key_columns) -%}
    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        cast(sum(loc_suggested_to_add) as bigint) as completion_loc_suggested_to_add,
        cast(sum(loc_added) as bigint) as completion_loc_added
    from {{ feature_totals }}
    where feature = 'code_completion'
    group by {{ key_columns | join(', ') }}
{%- endmacro %}

{#- The leading columns of a member-day model read from the users records: scope, day, its ISO
    week, user id and login.

    Args:
        member_days: alias of the users records (stg_github_copilot__usage_users).
-#}
{% macro member_day_columns(member_days) -%}
    {{ member_days }}.scope_type,
    {{ member_days }}.scope_name,
    {{ member_days }}.day,
    {{ iso_week_start(member_days ~ '.day') }} as week_start,
    {{ member_days }}.user_id,
    {{ member_days }}.user_login
{%- endmacro %}
