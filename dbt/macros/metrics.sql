{#- Metric definitions used by every mart (documented in the `metric_definitions` docs block). -#}

{#- acceptance rate = sum(numerator) / sum(denominator) over the row's grain; null without a
    denominator. Never an average of daily rates. -#}
{% macro ratio_of_sums(numerator, denominator) -%}
    case
        when coalesce(sum({{ denominator }}), 0) > 0
            then cast(sum({{ numerator }}) as double) / sum({{ denominator }})
    end
{%- endmacro %}

{#- The same for values that are already summed. -#}
{% macro safe_ratio(numerator, denominator) -%}
    case
        when coalesce({{ denominator }}, 0) > 0
            then cast({{ numerator }} as double) / {{ denominator }}
    end
{%- endmacro %}

{#- ISO week (Monday start, UTC) of a date. -#}
{% macro iso_week_start(day_col) -%}
    cast(date_trunc('week', {{ day_col }}) as date)
{%- endmacro %}

{#- A member's login as marts publish it: the login, or a stable pseudonym when the var
    `pseudonymize_logins` is true ('user_' || first 10 hex chars of sha256(login || salt)). -#}
{% macro mart_login(login_col) -%}
    {%- if var('pseudonymize_logins', false) | string | lower in ['true', '1', 'yes'] -%}
        case
            when {{ login_col }} is not null
                then 'user_' || left(sha256({{ login_col }} || '{{ var("pseudonym_salt", "") }}'), 10)
        end
    {%- else -%}
        {{ login_col }}
    {%- endif -%}
{%- endmacro %}

{#- A member counts for a breakdown value (IDE, feature, language, model) that day when the
    entry shows any activity: prompts (where the breakdown has them), generations, acceptances or
    added lines. -#}
{% macro has_breakdown_activity(with_interactions=true) -%}
    (
        {%- if with_interactions %}coalesce(user_initiated_interactions, 0) + {% endif -%}
        coalesce(code_generations, 0) + coalesce(code_acceptances, 0) + coalesce(loc_added, 0) > 0
    )
{%- endmacro %}
