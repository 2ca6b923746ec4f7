-- Adoption cohorts: members grouped by the ISO week of their first active day in the scope, and
-- how many of them are active in each later week (retention).
with

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

active_weeks as (

    select distinct
        scope_type,
        scope_name,
        user_id,
        week_start
    from member_days
    where is_active

),

first_weeks as (

    select
        scope_type,
        scope_name,
        user_id,
        min(week_start) as cohort_week
    from active_weeks
    group by scope_type, scope_name, user_id

),

cohorts as (

    select
        scope_type,
        scope_name,
        cohort_week,
        count(*) as cohort_size
    from first_weeks
    group by scope_type, scope_name, cohort_week

),

scope_weeks as (

    select distinct
        scope_type,
        scope_name,
        week_start
    from member_days

),

cohort_weeks as (

    select
        cohorts.scope_type,
        cohorts.scope_name,
        cohorts.cohort_week,
        cohorts.cohort_size,
        scope_weeks.week_start
    from cohorts
    inner join scope_weeks
        on
            cohorts.scope_type = scope_weeks.scope_type
            and cohorts.scope_name = scope_weeks.scope_name
            and cohorts.cohort_week <= scope_weeks.week_start

),

retained as (

    select
        first_weeks.scope_type,
        first_weeks.scope_name,
        first_weeks.cohort_week,
        active_weeks.week_start,
        count(*) as active_members
    from first_weeks
    inner join active_weeks
        on
            first_weeks.scope_type = active_weeks.scope_type
            and first_weeks.scope_name = active_weeks.scope_name
            and first_weeks.user_id = active_weeks.user_id
    group by first_weeks.scope_type, first_weeks.scope_name, first_weeks.cohort_week, active_weeks.week_start

),

final as (

    select
        cohort_weeks.scope_type,
        cohort_weeks.scope_name,
        cohort_weeks.cohort_week,
        cohort_weeks.week_start,
        cast(datediff('week', cohort_weeks.cohort_week, cohort_weeks.week_start) as bigint)
            as weeks_since_first_active,
        cast(cohort_weeks.cohort_size as bigint) as cohort_size,
        cast(coalesce(retained.active_members, 0) as bigint) as active_members,
        {{ safe_ratio('coalesce(retained.active_members, 0)', 'cohort_weeks.cohort_size') }} as retention_rate
    from cohort_weeks
    left join retained
        on
            cohort_weeks.scope_type = retained.scope_type
            and cohort_weeks.scope_name = retained.scope_name
            and cohort_weeks.cohort_week = retained.cohort_week
            and cohort_weeks.week_start = retained.week_start

)

select * from final
