-- Legacy /copilot/metrics code completion engaged users per language and per editor, as the day
-- object lists them (copilot_ide_code_completions.languages[] and .editors[]): GitHub's own
-- distinct counts. A sum over models or over an editor's languages would count a user once per
-- entry, so the nested counts are never added up here.
with

legacy_days as (

    select * from {{ ref('stg_github_copilot__legacy_metrics_days') }}

),

listed as (

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        'language' as dimension,
        languages.entry,
        legacy_days._loaded_at
    from legacy_days,
        unnest(legacy_days.record -> '$.copilot_ide_code_completions.languages[*]') as languages (entry)

    union all

    select
        legacy_days.scope_type,
        legacy_days.scope_name,
        legacy_days.day,
        'ide' as dimension,
        editors.entry,
        legacy_days._loaded_at
    from legacy_days,
        unnest(legacy_days.record -> '$.copilot_ide_code_completions.editors[*]') as editors (entry)

),

final as (

    select
        scope_type,
        scope_name,
        day,
        dimension,
        coalesce({{ json_varchar('entry', '$.name') }}, 'unknown') as dimension_value,
        -- defensive: GitHub lists a name once; a repeated name keeps its highest count
        max({{ json_bigint('entry', '$.total_engaged_users') }}) as engaged_users,
        max(_loaded_at) as _loaded_at
    from listed
    group by scope_type, scope_name, day, dimension, dimension_value

)

select * from final
