-- Scope x member x ISO week AI credits from the users report, with an estimated cost at the
-- configured price per credit (an estimate, not the invoice). One row per member and week with
-- at least one users report record.
with

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

),

final as (

    select
        scope_type,
        scope_name,
        week_start,
        user_id,
        {{ mart_login('arg_max(user_login, day)') }} as user_login,
        cast(count(distinct day) as bigint) as days_reported,
        cast(count(distinct day) filter (where ai_credits_used > 0) as bigint) as days_with_credits,
        {{ ai_credit_cost_columns() }}
    from member_days
    group by scope_type, scope_name, week_start, user_id

)

select * from final
