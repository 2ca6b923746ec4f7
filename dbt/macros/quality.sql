{#- Helpers of the source-value checks (fct_copilot_data_quality). -#}

{#- 'label=value' as text, 'label=null' for a null value: how observed values are written. -#}
{% macro named_value(label, expr) -%}
    '{{ label }}=' || coalesce(cast({{ expr }} as varchar), 'null')
{%- endmacro %}

{#- The aggregate report of a scope type: 'organization-1-day' or 'enterprise-1-day'. -#}
{% macro aggregate_report_name(scope_type_col) -%}
    case {{ scope_type_col }} when 'enterprise' then 'enterprise-1-day' else 'organization-1-day' end
{%- endmacro %}
