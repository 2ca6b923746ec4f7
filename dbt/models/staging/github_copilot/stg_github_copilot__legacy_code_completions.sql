-- Legacy /copilot/metrics IDE code completions exploded: one row per scope, day, editor, model and
-- language (the only level where the legacy API reports suggestion and acceptance counts).
with

legacy_days as (

    select * from {{ ref('stg_github_copilot__legacy_metrics_days') }}

),

exploded as (

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        legacy_days._loaded_at,
        editors.editor_entry,
        models.model_entry,
        languages.language_entry
    from legacy_days,
        unnest(legacy_days.record -> '$.copilot_ide_code_completions.editors[*]') as editors (editor_entry),
        unnest(editors.editor_entry -> '$.models[*]') as models (model_entry),
        unnest(models.model_entry -> '$.languages[*]') as languages (language_entry)

),

final as (

    select
        scope_type,
        scope_name,
        day,
        coalesce({{ json_varchar('editor_entry', '$.name') }}, 'unknown') as editor,
        coalesce({{ json_varchar('model_entry', '$.name') }}, 'unknown') as model,
        coalesce({{ json_varchar('language_entry', '$.name') }}, 'unknown') as language,
        bool_or(coalesce({{ json_boolean('model_entry', '$.is_custom_model') }}, false)) as is_custom_model,
        max({{ json_bigint('language_entry', '$.total_engaged_users') }}) as engaged_users,
        cast(sum({{ json_bigint('language_entry', '$.total_code_suggestions') }}) as bigint) as code_suggestions,
        cast(sum({{ json_bigint('language_entry', '$.total_code_acceptances') }}) as bigint) as code_acceptances,
        cast(sum({{ json_bigint('language_entry', '$.total_code_lines_suggested') }}) as bigint)
            as code_lines_suggested,
        cast(sum({{ json_bigint('language_entry', '$.total_code_lines_accepted') }}) as bigint) as code_lines_accepted,
        max(_loaded_at) as _loaded_at
    from exploded
    group by scope_type, scope_name, day, editor, model, language

)

select * from final
