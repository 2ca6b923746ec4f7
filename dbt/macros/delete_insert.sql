{#- dbt-duckdb's delete+insert, deleting through the DISTINCT keys of the new rows.

    dbt-duckdb 1.11 deletes with `delete from target using <new rows> where <keys equal>`: a join
    of every target row of a (scope, day) with every new row of it. Our incremental models key on
    (scope_type, scope_name, day) and hold one row per user (or user and dimension) per day, so
    that join has rows-per-day^2 pairs for each re-pulled day: quadratic in the number of users
    (bench/scale.py: stg_github_copilot__user_language_model_totals took 0.1 s at 2,000 users and
    40 s at 20,000 in the daily build). Joining the distinct keys instead deletes the same rows
    with one match each. Everything else is dbt-duckdb's macro unchanged.
-#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}

    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}

    {% if unique_key %}
        {% if unique_key is sequence and unique_key is not string %}
            delete from {{ target }} as DBT_INCREMENTAL_TARGET
            using (
                select distinct {{ unique_key | join(', ') }}
                from {{ source }}
            ) as DBT_INCREMENTAL_KEYS
            where (
                {% for key in unique_key %}
                    DBT_INCREMENTAL_KEYS.{{ key }} = DBT_INCREMENTAL_TARGET.{{ key }}
                    {{ "and " if not loop.last }}
                {% endfor %}
                {% if incremental_predicates %}
                    {% for predicate in incremental_predicates %}
                        and {{ predicate }}
                    {% endfor %}
                {% endif %}
            );
        {% else %}
            delete from {{ target }}
            where (
                {{ unique_key }}) in (
                select ({{ unique_key }})
                from {{ source }}
            )
            {%- if incremental_predicates %}
                {% for predicate in incremental_predicates %}
                    and {{ predicate }}
                {% endfor %}
            {%- endif -%};

        {% endif %}
    {% endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )

{%- endmacro %}
