-- Scope x day x model AI credits, ALLOCATED (an estimate: GitHub does not report credits per
-- model). Each member-day's ai_credits_used is split across models by that member-day's share of
-- user_initiated_interaction_count in totals_by_model_feature; a member-day with credits but no
-- model activity goes to model 'unattributed'. Exact decimals (DECIMAL(38, 10)); the last model of
-- each member-day takes the remainder, so the allocation adds up exactly to the credits.
with

member_days as (

    select * from {{ ref('int_member_days_cli_app') }}

),

model_feature_totals as (

    select * from {{ ref('stg_github_copilot__user_model_feature_totals') }}

),

credit_days as (

    select
        scope_type,
        scope_name,
        day,
        user_id,
        cast(ai_credits_used as decimal(38, 10)) as credits
    from member_days
    where ai_credits_used is not null and ai_credits_used != 0

),

model_interactions as (

    select
        scope_type,
        scope_name,
        day,
        user_id,
        model,
        sum(user_initiated_interactions) as interactions
    from model_feature_totals
    where user_initiated_interactions > 0
    group by scope_type, scope_name, day, user_id, model

),

shares as (

    select
        credit_days.scope_type,
        credit_days.scope_name,
        credit_days.day,
        credit_days.user_id,
        credit_days.credits,
        coalesce(model_interactions.model, 'unattributed') as model,
        coalesce(model_interactions.interactions, 1) as interactions,
        sum(coalesce(model_interactions.interactions, 1)) over member_day as member_day_interactions,
        row_number() over (member_day order by coalesce(model_interactions.model, 'unattributed') desc)
            as model_rank_desc
    from credit_days
    left join model_interactions
        on
            credit_days.scope_type = model_interactions.scope_type
            and credit_days.scope_name = model_interactions.scope_name
            and credit_days.day = model_interactions.day
            and credit_days.user_id = model_interactions.user_id
    window member_day as (
        partition by credit_days.scope_type, credit_days.scope_name, credit_days.day, credit_days.user_id
    )

),

rounded as (

    select
        *,
        cast(credits * interactions / member_day_interactions as decimal(38, 10)) as share_credits
    from shares

),

allocated as (

    -- the last model (by name) takes the remainder: the member-day's parts add up to its credits
    select
        scope_type,
        scope_name,
        day,
        user_id,
        model,
        case
            when model_rank_desc = 1
                then credits - (sum(share_credits) over member_day - share_credits)
            else share_credits
        end as allocated_credits
    from rounded
    window member_day as (partition by scope_type, scope_name, day, user_id)

),

final as (

    select
        {{ scope_day_columns() }},
        model,
        cast(count(distinct user_id) as bigint) as members,
        cast(sum(allocated_credits) as decimal(38, 10)) as allocated_ai_credits,
        {{ price_per_ai_credit_usd() }} as price_per_ai_credit_usd,
        {{ estimated_cost_usd_of_sum('allocated_credits') }} as estimated_cost_usd
    from allocated
    group by scope_type, scope_name, day, model

)

select * from final
