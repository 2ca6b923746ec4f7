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
