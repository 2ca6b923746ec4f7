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
        {{ ratio_inputs(acceptance_ratios()) }}
    from usage_days

    union all

    select
        scope_type,
        scope_name,
        week_start,
        dimension,
        dimension_value,
        {{ ratio_inputs(acceptance_ratios()) }}
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

    {{ ratios_with_week_change(
        'weeks', acceptance_ratios(), ['scope_type', 'scope_name', 'dimension', 'dimension_value']
    ) }}

),

final as (

    select
        scope_type,
        scope_name,
        week_start,
        dimension,
        dimension_value,
        {{ ratio_columns(acceptance_ratios()) }},
        {{ ratio_change_columns(acceptance_ratios()) }}
    from rated

)

select * from final
