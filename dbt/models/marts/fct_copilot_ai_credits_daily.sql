-- Scope x day AI credits from the users report (ai_credits_used per member-day, a metrics signal
-- GitHub reports from 2026-06-19, not the invoice), with an estimated cost at the configured price
-- per credit (var price_per_ai_credit_usd / env COPILOT_PRICE_PER_AI_CREDIT_USD, default 0.04).
with

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

),

final as (

    select
        {{ scope_day_columns() }},
        cast(count(distinct user_id) as bigint) as members_reported,
        cast(count(distinct user_id) filter (where ai_credits_used is not null) as bigint)
            as members_reporting_credits,
        cast(count(distinct user_id) filter (where ai_credits_used > 0) as bigint) as members_with_credits,
        -- null when no record of the day carries the field (unknown, not zero)
        {{ ai_credit_cost_columns() }}
    from member_days
    group by scope_type, scope_name, day

)

select * from final
