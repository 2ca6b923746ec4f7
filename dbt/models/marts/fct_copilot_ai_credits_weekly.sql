-- Scope x ISO week (Monday start, UTC) AI credits from the users report: credits summed over the
-- week's member-days, members with credits distinct over the week (never a sum of daily counts),
-- and an estimated cost at the configured price per credit (an estimate, not the invoice).
with

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

),

final as (

    select
        scope_type,
        scope_name,
        week_start,
        cast(count(distinct day) as bigint) as days_with_data,
        cast(count(distinct user_id) as bigint) as members_reported,
        cast(count(distinct user_id) filter (where ai_credits_used > 0) as bigint) as members_with_credits,
        {{ ai_credit_cost_columns() }}
    from member_days
    group by scope_type, scope_name, week_start

)

select * from final
