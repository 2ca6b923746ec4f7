-- Scope x member: lifetime activity from the per-user reports joined to the latest seat
-- snapshot. Seat holders who were never active appear with zero active days.
with

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

ide_totals as (

    select * from {{ ref('stg_github_copilot__user_ide_totals') }}

),

language_totals as (

    select * from {{ ref('stg_github_copilot__user_language_feature_totals') }}

),

seats as (

    -- only seats held by users make members (null and Team-shaped assignees stay in the dimension)
    select * from {{ ref('dim_copilot_seats') }}
    where assignee_type = 'user'

),

activity as (

    select
        scope_type,
        scope_name,
        user_id,
        arg_max(user_login, day) as user_login,
        min(day) filter (where is_active) as first_active_day,
        max(day) filter (where is_active) as last_active_day,
        count(distinct day) filter (where is_active) as active_days,
        {{ summed_counters(usage_counters(), cast_as=none) }},
        count(distinct day) filter (where used_agent) as agent_days,
        count(distinct day) filter (where used_chat) as chat_days,
        count(distinct day) filter (where used_cli) as cli_days,
        sum(ai_credits_used) as ai_credits_used
    from member_days
    group by scope_type, scope_name, user_id

),

ide_activity as (

    select
        scope_type,
        scope_name,
        user_id,
        ide,
        sum(coalesce(user_initiated_interactions, 0) + coalesce(code_generations, 0)) as activity
    from ide_totals
    group by scope_type, scope_name, user_id, ide

),

top_ide as (

    -- the IDE with the most interactions + generations; ties go to the first name
    select
        scope_type,
        scope_name,
        user_id,
        ide as top_ide
    from ide_activity
    qualify row_number() over (
            partition by scope_type, scope_name, user_id
            order by activity desc, ide asc
        ) = 1

),

language_activity as (

    select
        scope_type,
        scope_name,
        user_id,
        language,
        sum(coalesce(code_generations, 0)) as activity
    from language_totals
    group by scope_type, scope_name, user_id, language

),

top_language as (

    -- the language with the most code generations; ties go to the first name
    select
        scope_type,
        scope_name,
        user_id,
        language as top_language
    from language_activity
    qualify row_number() over (
            partition by scope_type, scope_name, user_id
            order by activity desc, language asc
        ) = 1

),

members as (

    select
        scope_type,
        scope_name,
        user_id
    from activity
    union
    select
        scope_type,
        scope_name,
        user_id
    from seats

),

final as (

    select
        members.scope_type,
        members.scope_name,
        members.user_id,
        coalesce({{ mart_login('activity.user_login') }}, seats.user_login) as user_login,
        activity.first_active_day,
        activity.last_active_day,
        cast(coalesce(activity.active_days, 0) as bigint) as active_days,
        cast(coalesce(activity.user_initiated_interactions, 0) as bigint) as user_initiated_interactions,
        cast(coalesce(activity.code_generations, 0) as bigint) as code_generations,
        cast(coalesce(activity.code_acceptances, 0) as bigint) as code_acceptances,
        {{ safe_ratio('activity.code_acceptances', 'activity.code_generations') }} as acceptance_rate,
        cast(coalesce(activity.loc_suggested_to_add, 0) as bigint) as loc_suggested_to_add,
        cast(coalesce(activity.loc_added, 0) as bigint) as loc_added,
        -- a ratio, not a rate: loc_added includes agent edits that were never suggested
        {{ safe_ratio('activity.loc_added', 'activity.loc_suggested_to_add') }} as loc_added_per_suggested_line,
        cast(coalesce(activity.completion_loc_suggested_to_add, 0) as bigint) as completion_loc_suggested_to_add,
        cast(coalesce(activity.completion_loc_added, 0) as bigint) as completion_loc_added,
        {{ safe_ratio('activity.completion_loc_added', 'activity.completion_loc_suggested_to_add') }}
            as completion_loc_acceptance_rate,
        cast(coalesce(activity.agent_days, 0) as bigint) as agent_days,
        cast(coalesce(activity.chat_days, 0) as bigint) as chat_days,
        cast(coalesce(activity.cli_days, 0) as bigint) as cli_days,
        cast(activity.ai_credits_used as double) as ai_credits_used,
        top_ide.top_ide,
        top_language.top_language,
        seats.user_id is not null as has_seat,
        seats.plan_type as seat_plan_type,
        seats.created_at as seat_created_at,
        seats.last_activity_at as seat_last_activity_at,
        coalesce(seats.is_inactive_seat, false) as is_inactive_seat,
        coalesce(seats.is_never_used, false) as is_never_used_seat,
        seats.pending_cancellation_date as seat_pending_cancellation_date
    from members
    left join activity
        on
            members.scope_type = activity.scope_type
            and members.scope_name = activity.scope_name
            and members.user_id = activity.user_id
    left join seats
        on
            members.scope_type = seats.scope_type
            and members.scope_name = seats.scope_name
            and members.user_id = seats.user_id
    left join top_ide
        on
            members.scope_type = top_ide.scope_type
            and members.scope_name = top_ide.scope_name
            and members.user_id = top_ide.user_id
    left join top_language
        on
            members.scope_type = top_language.scope_type
            and members.scope_name = top_language.scope_name
            and members.user_id = top_language.user_id

)

select * from final
