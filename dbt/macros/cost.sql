{#- The price of one AI credit in US dollars, for estimated costs (an estimate from GitHub's
    per-user ai_credits_used metric, never the invoice). Set with the dbt var
    `price_per_ai_credit_usd`; without it, the env var COPILOT_PRICE_PER_AI_CREDIT_USD; without
    either (or when empty), 0.04. A value that is not a number from 0 to 1000000 stops the build. -#}
{% macro price_per_ai_credit_usd() -%}
    {%- set from_env = env_var('COPILOT_PRICE_PER_AI_CREDIT_USD', '') | string | trim -%}
    {%- set raw = var('price_per_ai_credit_usd', from_env if from_env else '0.04') | string | trim -%}
    {%- set price = raw | float(-1.0) -%}
    {%- if raw == '' or price < 0 or price != price or price > 1000000 -%}
        {{ exceptions.raise_compiler_error(
            "price_per_ai_credit_usd (or COPILOT_PRICE_PER_AI_CREDIT_USD) must be a number from 0 to "
            ~ "1000000 (US dollars per credit), got '" ~ raw ~ "'") }}
    {%- endif -%}
    cast({{ price }} as double)
{%- endmacro %}

{#- The sum of a DOUBLE column, exact and independent of row order (summed as DECIMAL(38, 10),
    returned as DOUBLE): an incremental build and a full refresh give the same bits. -#}
{% macro exact_sum(column) -%}
    cast(sum(cast({{ column }} as decimal(38, 10))) as double)
{%- endmacro %}

{#- The estimated cost in US dollars of the sum of a credits column: the sum and its product with
    the price per credit are exact (DECIMAL), then rounded to 6 decimals and returned as DOUBLE, so
    17.25 credits at 0.04 give 0.69 (a double product gave 0.6900000000000001). -#}
{% macro estimated_cost_usd_of_sum(column) -%}
    cast(round(
        sum(cast({{ column }} as decimal(38, 10))) * cast({{ price_per_ai_credit_usd() }} as decimal(38, 10)), 6
    ) as double)
{%- endmacro %}
