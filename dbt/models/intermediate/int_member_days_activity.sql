-- One row per scope, member and day with a users report record, with the active rule applied:
-- a member-day is active when any activity counter is above 0 or any used_* flag is true.
-- Code completion lines come from the code_completion entry of the record's totals_by_feature.
{#- absent counters are 0 and absent flags false, in the columns and in the active rule -#}
{%- set counters = [
    'user_initiated_interactions', 'code_generations', 'code_acceptances', 'loc_suggested_to_add',
    'loc_suggested_to_delete', 'loc_added', 'loc_deleted',
] %}
{%- set flags = [
    'used_chat', 'used_agent', 'used_cli', 'used_copilot_code_review_active',
    'used_copilot_code_review_passive', 'used_copilot_cloud_agent', 'used_copilot_app',
] %}

with

member_days as (

    select * from {{ ref('stg_github_copilot__usage_users') }}

),

feature_totals as (

    select * from {{ ref('stg_github_copilot__user_feature_totals') }}

),

completion_lines as (

    {{ completion_lines('feature_totals', ['scope_type', 'scope_name', 'day', 'user_id']) }}

),

final as (

    select
        {{ member_day_columns('member_days') }},
        {%- for counter in counters %}
            coalesce(member_days.{{ counter }}, 0) as {{ counter }},
        {%- endfor %}
        {%- for flag in flags %}
            coalesce(member_days.{{ flag }}, false) as {{ flag }},
        {%- endfor %}
        member_days.ai_credits_used,
        member_days.ai_adoption_phase,
        -- a record without a code_completion entry had no completion lines (absent blocks are 0)
        coalesce(completion_lines.completion_loc_suggested_to_add, 0) as completion_loc_suggested_to_add,
        coalesce(completion_lines.completion_loc_added, 0) as completion_loc_added,
        (
            {%- for counter in counters %}
                {% if not loop.first %}or {% endif %}coalesce(member_days.{{ counter }}, 0) > 0
            {%- endfor %}
            {%- for flag in flags %}
                or coalesce(member_days.{{ flag }}, false)
            {%- endfor %}
        ) as is_active,
        member_days._loaded_at
    from member_days
    left join completion_lines
        on {{ keys_match('member_days', 'completion_lines', ['scope_type', 'scope_name', 'day', 'user_id']) }}

)

select * from final
