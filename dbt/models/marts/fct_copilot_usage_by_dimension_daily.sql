{{ incremental_day_config(on_schema_change='append_new_columns') }}

-- Scope x day x dimension value: usage by language, IDE, model and feature. Counters come from the
-- scope's aggregate breakdowns (enterprise rows from enterprise reports); active_users is the
-- distinct count of members with activity in that value, from the per-user breakdowns. Legacy
-- days (no usage metrics day for the scope) contribute language and IDE (editor) rows.
-- Breakdowns need not add up to the day's totals (GitHub leaves some activity unattributed).
-- Code completion lines: the code_completion entries of the feature, language x feature and
-- model x feature breakdowns; IDE rows have none (totals_by_ide has no feature split); legacy
-- rows report code completions only. Legacy engaged users per language and per editor come from
-- the day object's languages[] and editors[] lists, never summed over models.
with

aggregates as (

    select * from {{ ref('stg_github_copilot__usage_aggregates') }}

),

aggregate_ides as (

    select * from {{ ref('stg_github_copilot__aggregate_ide_totals') }}

),

aggregate_features as (

    select * from {{ ref('stg_github_copilot__aggregate_feature_totals') }}

),

aggregate_language_features as (

    select * from {{ ref('stg_github_copilot__aggregate_language_feature_totals') }}

),

aggregate_model_features as (

    select * from {{ ref('stg_github_copilot__aggregate_model_feature_totals') }}

),

user_ides as (

    select * from {{ ref('stg_github_copilot__user_ide_totals') }}

),

user_features as (

    select * from {{ ref('stg_github_copilot__user_feature_totals') }}

),

user_language_features as (

    select * from {{ ref('stg_github_copilot__user_language_feature_totals') }}

),

user_model_features as (

    select * from {{ ref('stg_github_copilot__user_model_feature_totals') }}

),

legacy_completions as (

    select * from {{ ref('stg_github_copilot__legacy_code_completions') }}

),

legacy_engaged as (

    select * from {{ ref('stg_github_copilot__legacy_completion_engaged_users') }}

),

changes as (

    -- per-user breakdowns feed active_users: a re-pull of users-1-day alone also counts
    {{ days_loaded(['aggregates', 'legacy_completions', 'legacy_engaged', 'user_features']) }}

),

aggregate_values as (

    select
        {{ breakdown_day_columns('ide') }},
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        cast(null as bigint) as completion_loc_suggested_to_add,
        cast(null as bigint) as completion_loc_added,
        _loaded_at
    from aggregate_ides

    union all

    select
        {{ breakdown_day_columns('feature') }},
        user_initiated_interactions,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        case when feature = 'code_completion' then loc_suggested_to_add else 0 end
            as completion_loc_suggested_to_add,
        case when feature = 'code_completion' then loc_added else 0 end as completion_loc_added,
        _loaded_at
    from aggregate_features

    union all

    select
        {{ breakdown_day_columns('language') }},
        {{ feature_breakdown_rollup(with_interactions=false) }},
        max(_loaded_at) as _loaded_at
    from aggregate_language_features
    group by scope_type, scope_name, day, language

    union all

    select
        {{ breakdown_day_columns('model') }},
        {{ feature_breakdown_rollup() }},
        max(_loaded_at) as _loaded_at
    from aggregate_model_features
    group by scope_type, scope_name, day, model

),

user_values as (

    -- a member counts for a value when they have any activity in it that day
    select
        {{ breakdown_day_columns('ide') }},
        user_id
    from user_ides
    where {{ has_breakdown_activity() }}

    union all

    select
        {{ breakdown_day_columns('feature') }},
        user_id
    from user_features
    where {{ has_breakdown_activity() }}

    union all

    select
        {{ breakdown_day_columns('language') }},
        user_id
    from user_language_features
    where {{ has_breakdown_activity(with_interactions=false) }}

    union all

    select
        {{ breakdown_day_columns('model') }},
        user_id
    from user_model_features
    where {{ has_breakdown_activity() }}

),

active_users_per_value as (

    select
        scope_type,
        scope_name,
        day,
        dimension,
        dimension_value,
        count(distinct user_id) as active_users
    from user_values
    group by scope_type, scope_name, day, dimension, dimension_value

),

legacy_dimensions as (

    select unnest(['language', 'ide']) as dimension

),

legacy_counters as (

    select
        legacy_completions.scope_type,
        legacy_completions.scope_name,
        legacy_completions.day,
        dimensions.dimension,
        case dimensions.dimension
            when 'language' then legacy_completions.language
            else legacy_completions.editor
        end as dimension_value,
        sum(legacy_completions.code_suggestions) as code_generations,
        sum(legacy_completions.code_acceptances) as code_acceptances,
        sum(legacy_completions.code_lines_suggested) as loc_suggested_to_add,
        sum(legacy_completions.code_lines_accepted) as loc_added,
        sum(legacy_completions.code_lines_suggested) as completion_loc_suggested_to_add,
        sum(legacy_completions.code_lines_accepted) as completion_loc_added,
        max(legacy_completions._loaded_at) as _loaded_at
    from legacy_completions
    cross join legacy_dimensions as dimensions
    group by
        legacy_completions.scope_type,
        legacy_completions.scope_name,
        legacy_completions.day,
        dimensions.dimension,
        dimension_value

),

legacy_values as (

    -- a value listed with engaged users but without counters reported none of them (0); legacy
    -- days only where the usage metrics reports have no day for the scope
    select
        coalesce(legacy_counters.scope_type, legacy_engaged.scope_type) as scope_type,
        coalesce(legacy_counters.scope_name, legacy_engaged.scope_name) as scope_name,
        coalesce(legacy_counters.day, legacy_engaged.day) as day,
        coalesce(legacy_counters.dimension, legacy_engaged.dimension) as dimension,
        coalesce(legacy_counters.dimension_value, legacy_engaged.dimension_value) as dimension_value,
        null as user_initiated_interactions,
        coalesce(legacy_counters.code_generations, 0) as code_generations,
        coalesce(legacy_counters.code_acceptances, 0) as code_acceptances,
        coalesce(legacy_counters.loc_suggested_to_add, 0) as loc_suggested_to_add,
        coalesce(legacy_counters.loc_added, 0) as loc_added,
        coalesce(legacy_counters.completion_loc_suggested_to_add, 0) as completion_loc_suggested_to_add,
        coalesce(legacy_counters.completion_loc_added, 0) as completion_loc_added,
        greatest(legacy_counters._loaded_at, legacy_engaged._loaded_at) as _loaded_at,
        legacy_engaged.engaged_users
    from legacy_counters
    full outer join legacy_engaged
        on
            legacy_counters.scope_type = legacy_engaged.scope_type
            and legacy_counters.scope_name = legacy_engaged.scope_name
            and legacy_counters.day = legacy_engaged.day
            and legacy_counters.dimension = legacy_engaged.dimension
            and legacy_counters.dimension_value = legacy_engaged.dimension_value
    left join aggregates
        on
            coalesce(legacy_counters.scope_type, legacy_engaged.scope_type) = aggregates.scope_type
            and coalesce(legacy_counters.scope_name, legacy_engaged.scope_name) = aggregates.scope_name
            and coalesce(legacy_counters.day, legacy_engaged.day) = aggregates.day
    where aggregates.day is null

),

all_values as (

    select
        *,
        cast(null as bigint) as engaged_users,
        'usage_metrics' as source_api
    from aggregate_values

    union all

    select
        *,
        'legacy_metrics' as source_api
    from legacy_values

),

final as (

    select
        {{ scope_day_columns('all_values') }},
        all_values.dimension,
        all_values.dimension_value,
        cast(all_values.user_initiated_interactions as bigint) as user_initiated_interactions,
        cast(all_values.code_generations as bigint) as code_generations,
        cast(all_values.code_acceptances as bigint) as code_acceptances,
        cast(all_values.loc_suggested_to_add as bigint) as loc_suggested_to_add,
        cast(all_values.loc_added as bigint) as loc_added,
        {{ safe_ratio('all_values.code_acceptances', 'all_values.code_generations') }} as acceptance_rate,
        {{ safe_ratio('all_values.loc_added', 'all_values.loc_suggested_to_add') }} as loc_added_per_suggested_line,
        cast(all_values.completion_loc_suggested_to_add as bigint) as completion_loc_suggested_to_add,
        cast(all_values.completion_loc_added as bigint) as completion_loc_added,
        {{ safe_ratio('all_values.completion_loc_added', 'all_values.completion_loc_suggested_to_add') }}
            as completion_loc_acceptance_rate,
        case
            when all_values.source_api = 'usage_metrics'
                then cast(coalesce(active_users_per_value.active_users, 0) as bigint)
        end as active_users,
        cast(all_values.engaged_users as bigint) as engaged_users,
        all_values.source_api,
        all_values._loaded_at as last_loaded_at
    from all_values
    left join active_users_per_value
        on
            all_values.scope_type = active_users_per_value.scope_type
            and all_values.scope_name = active_users_per_value.scope_name
            and all_values.day = active_users_per_value.day
            and all_values.dimension = active_users_per_value.dimension
            and all_values.dimension_value = active_users_per_value.dimension_value
    where all_values.day >= {{ incremental_start_day('changes') }}

)

select * from final
