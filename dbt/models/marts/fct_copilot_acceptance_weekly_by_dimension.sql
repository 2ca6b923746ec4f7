-- Scope x ISO week x dimension value acceptance, by count and by lines, with the change against
-- the previous ISO week. dimension 'overall' (value 'all') repeats the weekly totals so a chart
-- can draw the overall line beside languages, IDEs and features. By lines: the ratio of all lines
-- added to lines suggested (can exceed 1: agent edits) and the code completion lines' own rate
-- (null for IDE values: totals_by_ide has no feature split).
with

usage_days as (

    select * from {{ ref('fct_copilot_usage_daily') }}

),

dimension_days as (

    select * from {{ ref('fct_copilot_usage_by_dimension_daily') }}

),

day_values as (

    select
        scope_type,
        scope_name,
        week_start,
        'overall' as dimension,
        'all' as dimension_value,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        completion_loc_suggested_to_add,
        completion_loc_added
    from usage_days

    union all

    select
        scope_type,
        scope_name,
        week_start,
        dimension,
        dimension_value,
        code_generations,
        code_acceptances,
        loc_suggested_to_add,
        loc_added,
        completion_loc_suggested_to_add,
        completion_loc_added
    from dimension_days
    where dimension in ('language', 'ide', 'feature')

),

weeks as (

    select
        scope_type,
        scope_name,
        week_start,
        dimension,
        dimension_value,
        sum(code_generations) as code_generations,
        sum(code_acceptances) as code_acceptances,
        sum(loc_suggested_to_add) as loc_suggested_to_add,
        sum(loc_added) as loc_added,
        -- unknown on any day of the week (IDE values of the usage metrics API): unknown for the week
        case
            when count(completion_loc_suggested_to_add) = count(*) then sum(completion_loc_suggested_to_add)
        end as completion_loc_suggested_to_add,
        case when count(completion_loc_added) = count(*) then sum(completion_loc_added) end as completion_loc_added
    from day_values
    group by scope_type, scope_name, week_start, dimension, dimension_value

),

rated as (

    select
        *,
        {{ safe_ratio('code_acceptances', 'code_generations') }} as acceptance_rate,
        {{ safe_ratio('loc_added', 'loc_suggested_to_add') }} as loc_added_per_suggested_line,
        {{ safe_ratio('completion_loc_added', 'completion_loc_suggested_to_add') }} as completion_loc_acceptance_rate
    from weeks

),

final as (

    select
        this_week.scope_type,
        this_week.scope_name,
        this_week.week_start,
        this_week.dimension,
        this_week.dimension_value,
        cast(this_week.code_generations as bigint) as code_generations,
        cast(this_week.code_acceptances as bigint) as code_acceptances,
        this_week.acceptance_rate,
        cast(this_week.loc_suggested_to_add as bigint) as loc_suggested_to_add,
        cast(this_week.loc_added as bigint) as loc_added,
        this_week.loc_added_per_suggested_line,
        cast(this_week.completion_loc_suggested_to_add as bigint) as completion_loc_suggested_to_add,
        cast(this_week.completion_loc_added as bigint) as completion_loc_added,
        this_week.completion_loc_acceptance_rate,
        this_week.acceptance_rate - previous_week.acceptance_rate as acceptance_rate_change,
        this_week.loc_added_per_suggested_line - previous_week.loc_added_per_suggested_line
            as loc_added_per_suggested_line_change,
        this_week.completion_loc_acceptance_rate - previous_week.completion_loc_acceptance_rate
            as completion_loc_acceptance_rate_change
    from rated as this_week
    left join rated as previous_week
        on
            this_week.scope_type = previous_week.scope_type
            and this_week.scope_name = previous_week.scope_name
            and this_week.dimension = previous_week.dimension
            and this_week.dimension_value = previous_week.dimension_value
            and this_week.week_start - 7 = previous_week.week_start

)

select * from final
