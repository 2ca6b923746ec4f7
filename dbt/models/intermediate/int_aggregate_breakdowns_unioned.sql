-- Every breakdown entry of the scope records (organization-1-day / enterprise-1-day) in one
-- shape: the totals_by_* array it comes from, its dimension values joined with ' / ', and its
-- counters. The source-value checks read it (an entry's acceptances against its generations).
with

ides as (

    select * from {{ ref('stg_github_copilot__aggregate_ide_totals') }}

),

features as (

    select * from {{ ref('stg_github_copilot__aggregate_feature_totals') }}

),

language_features as (

    select * from {{ ref('stg_github_copilot__aggregate_language_feature_totals') }}

),

language_models as (

    select * from {{ ref('stg_github_copilot__aggregate_language_model_totals') }}

),

model_features as (

    select * from {{ ref('stg_github_copilot__aggregate_model_feature_totals') }}

),

final as (

    select
        scope_type,
        scope_name,
        day,
        'totals_by_ide' as breakdown,
        ide as breakdown_value,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        _loaded_at
    from ides

    union all

    select
        scope_type,
        scope_name,
        day,
        'totals_by_feature' as breakdown,
        feature as breakdown_value,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        _loaded_at
    from features

    union all

    select
        scope_type,
        scope_name,
        day,
        'totals_by_language_feature' as breakdown,
        language || ' / ' || feature as breakdown_value,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        _loaded_at
    from language_features

    union all

    select
        scope_type,
        scope_name,
        day,
        'totals_by_language_model' as breakdown,
        language || ' / ' || model as breakdown_value,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        _loaded_at
    from language_models

    union all

    select
        scope_type,
        scope_name,
        day,
        'totals_by_model_feature' as breakdown,
        model || ' / ' || feature as breakdown_value,
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        _loaded_at
    from model_features

)

select * from final
