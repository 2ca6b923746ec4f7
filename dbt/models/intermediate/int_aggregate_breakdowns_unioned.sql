-- Every breakdown entry of the scope records (organization-1-day / enterprise-1-day) in one
-- shape: the totals_by_* array it comes from, its dimension values joined with ' / ', and its
-- counters. The source-value checks read it (an entry's acceptances against its generations).
{#- each breakdown staging model, its totals_by_* array and its dimension value(s) -#}
{%- set breakdowns = [
    ('stg_github_copilot__aggregate_ide_totals', 'totals_by_ide', ['ide']),
    ('stg_github_copilot__aggregate_feature_totals', 'totals_by_feature', ['feature']),
    ('stg_github_copilot__aggregate_language_feature_totals', 'totals_by_language_feature', ['language', 'feature']),
    ('stg_github_copilot__aggregate_language_model_totals', 'totals_by_language_model', ['language', 'model']),
    ('stg_github_copilot__aggregate_model_feature_totals', 'totals_by_model_feature', ['model', 'feature']),
] %}

with

{% for model, breakdown, dimensions in breakdowns %}
    {{ breakdown }} as (

        select * from {{ ref(model) }}

    ),
{% endfor %}

final as (

    {% for model, breakdown, dimensions in breakdowns %}
        select
            scope_type,
            scope_name,
            day,
            '{{ breakdown }}' as breakdown,
            {{ dimensions | join(" || ' / ' || ") }} as breakdown_value,
            user_initiated_interactions,
            code_generations,
            code_acceptances,
            loc_suggested_to_add,
            loc_added,
            _loaded_at
        from {{ breakdown }}
        {% if not loop.last %}

            union all

        {% endif %}
    {% endfor %}

)

select * from final
