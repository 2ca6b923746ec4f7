{#- Column lists and roll-ups shared by the marts (daily/weekly and overall/by-dimension pairs).
    Documented with their arguments in marts_metrics.yml. -#}

{#- The three acceptance ratios of the acceptance marts, as [name, numerator, denominator]:
    by count, all lines added per line suggested (can exceed 1), code completion lines. -#}
{% macro acceptance_ratios() -%}
    {{ return([
        ['acceptance_rate', 'code_acceptances', 'code_generations'],
        ['loc_added_per_suggested_line', 'loc_added', 'loc_suggested_to_add'],
        ['completion_loc_acceptance_rate', 'completion_loc_added', 'completion_loc_suggested_to_add'],
    ]) }}
{%- endmacro %}

{#- For each ratio: its denominator and numerator (cast to bigint) then the ratio itself, the
    column order of the acceptance marts. -#}
{% macro ratio_columns(ratios, relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {%- for name, numerator, denominator in ratios -%}
        cast({{ prefix }}{{ denominator }} as bigint) as {{ denominator }},
        cast({{ prefix }}{{ numerator }} as bigint) as {{ numerator }},
        {{ prefix }}{{ name }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- One `<name>` column per ratio: numerator / denominator of values already summed over the
    row's grain (null without a denominator). -#}
{% macro ratios_of_sums(ratios) -%}
    {%- for name, numerator, denominator in ratios -%}
        {{ safe_ratio(numerator, denominator) }} as {{ name }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- `<name>_change` per ratio: this week's ratio minus the ratio of the ISO week before in the
    same partition (one row per partition and week); null when that week has no row (never the
    nearest earlier week) or a partition key is null (as a join on the keys would give). -#}
{% macro changes_vs_previous_week(ratios, partition_by, week_column='week_start') -%}
    {%- set previous -%}
        over (partition by {{ partition_by | join(', ') }} order by {{ week_column }})
    {%- endset -%}
    {%- for name, numerator, denominator in ratios -%}
        case
            when
                lag({{ week_column }}) {{ previous }} = {{ week_column }} - 7
                {%- for key in partition_by %}
                and {{ key }} is not null
                {%- endfor %}
                then {{ name }} - lag({{ name }}) {{ previous }}
        end as {{ name }}_change
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- Ratio of sums, then change vs the previous ISO week: a select of every column of `relation`
    (one row per partition and week, counters already summed over the week), one `<name>` column
    per ratio (ratios_of_sums) and one `<name>_change` column per ratio (changes_vs_previous_week). -#}
{% macro ratios_with_week_change(relation, ratios, partition_by, week_column='week_start') -%}
    select
        *,
        {{ changes_vs_previous_week(ratios, partition_by, week_column) }}
    from (
        select
            *,
            {{ ratios_of_sums(ratios) }}
        from {{ relation }}
    ) as weekly_ratios
{%- endmacro %}

{#- The `<name>_change` columns of ratios_with_week_change, comma separated. -#}
{% macro ratio_change_columns(ratios) -%}
    {%- for name, numerator, denominator in ratios -%}
        {{ name }}_change
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The usage counters the per-user and aggregate reports share, in the marts' column order: what
    a weekly, monthly or lifetime roll-up sums. -#}
{% macro usage_counters() -%}
    {{ return([
        'user_initiated_interactions',
        'code_generations',
        'code_acceptances',
        'loc_suggested_to_add',
        'loc_added',
        'completion_loc_suggested_to_add',
        'completion_loc_added',
    ]) }}
{%- endmacro %}

{#- Roll-up of daily counters to a coarser grain (a week, a month, a team): `cast(sum(c) as bigint)
    as c` for each column; `coalesce(sum(c), 0)` with `zero_when_empty`; the bare sum (DuckDB's
    HUGEINT) with `cast_as=none`. -#}
{% macro summed_counters(columns, zero_when_empty=false, cast_as='bigint') -%}
    {%- for column in columns -%}
        {%- set total = 'coalesce(sum(' ~ column ~ '), 0)' if zero_when_empty else 'sum(' ~ column ~ ')' -%}
        {%- if cast_as %}cast({{ total }} as {{ cast_as }}){% else %}{{ total }}{% endif %} as {{ column }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The usage columns of the team usage marts (daily and weekly), over the member-days of the
    row's grain: distinct active members, summed activity (0 without any) and the acceptance rate
    as a ratio of sums. -#}
{% macro team_usage_columns() -%}
        cast(count(distinct user_id) filter (where is_active) as bigint) as active_members,
        {{ summed_counters(['user_initiated_interactions', 'code_generations', 'code_acceptances'], zero_when_empty=true) }},
        {{ ratio_of_sums('code_acceptances', 'code_generations') }} as acceptance_rate,
        {{ summed_counters(['loc_suggested_to_add', 'loc_added'], zero_when_empty=true) }}
{%- endmacro %}

{#- The leading columns of the team x ISO week marts read from int_team_member_days (group by
    scope_type, scope_name, week_start, team_id): the keys, the team's newest slug in the week,
    days with data and distinct team members over the week. -#}
{% macro team_week_columns() -%}
        scope_type,
        scope_name,
        week_start,
        team_id,
        arg_max(team_slug, day) as team_slug,
        cast(count(distinct day) as bigint) as days_with_data,
        cast(count(distinct user_id) as bigint) as team_members
{%- endmacro %}

{#- The AI credit columns of the AI credits marts at any grain: credits summed exactly, the price
    per credit and the estimated cost of the sum (cost.sql). -#}
{% macro ai_credit_cost_columns(column='ai_credits_used') -%}
        {{ exact_sum(column) }} as {{ column }},
        {{ price_per_ai_credit_usd() }} as price_per_ai_credit_usd,
        {{ estimated_cost_usd_of_sum(column) }} as estimated_cost_usd
{%- endmacro %}

{#- A breakdown by feature rolled up to another breakdown (language, model) of the same day: the
    counters summed, code completion lines as the lines of the code_completion feature (0 without
    any); the interactions summed, or null where the breakdown has none (`with_interactions`). -#}
{% macro feature_breakdown_rollup(with_interactions=true) -%}
    {%- if with_interactions -%}
        sum(user_initiated_interactions) as user_initiated_interactions,
    {%- else -%}
        null as user_initiated_interactions,
    {%- endif %}
        {{ summed_counters(['code_generations', 'code_acceptances', 'loc_suggested_to_add', 'loc_added'], cast_as=none) }},
        coalesce(sum(loc_suggested_to_add) filter (where feature = 'code_completion'), 0)
            as completion_loc_suggested_to_add,
        coalesce(sum(loc_added) filter (where feature = 'code_completion'), 0) as completion_loc_added
{%- endmacro %}

{#- The leading columns of a scope x day mart: the keys and the day's ISO week. -#}
{% macro scope_day_columns(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
        {{ prefix }}scope_type,
        {{ prefix }}scope_name,
        {{ prefix }}day,
        {{ iso_week_start(prefix ~ 'day') }} as week_start
{%- endmacro %}

{#- The inputs of ratios, in the acceptance marts' column order: denominator then numerator of each
    (as they are, for a union or a select that passes them on). -#}
{% macro ratio_inputs(ratios) -%}
    {%- for name, numerator, denominator in ratios -%}
        {{ denominator }},
        {{ numerator }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- Counters of a left-joined relation, 0 where it has no row: `cast(coalesce(r.c, 0) as bigint) as c`. -#}
{% macro coalesced_counters(columns, relation_alias) -%}
    {%- for column in columns -%}
        cast(coalesce({{ relation_alias }}.{{ column }}, 0) as bigint) as {{ column }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The counters of one Copilot CLI / desktop app object (totals_by_cli, totals_by_copilot_app),
    in the marts' column order; `prefix` is 'cli' or 'app'. -#}
{% macro cli_app_counters(prefix) -%}
    {{ return([
        prefix ~ '_sessions',
        prefix ~ '_requests',
        prefix ~ '_prompts',
        prefix ~ '_output_tokens',
        prefix ~ '_prompt_tokens',
    ]) }}
{%- endmacro %}

{#- The finding and observed values of a data quality check "larger > smaller" of two counters:
    `larger=<v> > smaller=<v>` and `smaller=<v>, larger=<v>` (named_value, quality.sql). -#}
{% macro exceeds_finding(larger, smaller) -%}
        {{ named_value(larger, larger) }}
        || ' > ' || {{ named_value(smaller, smaller) }} as finding,
        {{ named_value(smaller, smaller) }}
        || ', ' || {{ named_value(larger, larger) }} as observed_values
{%- endmacro %}

{#- Seat holders of each period (a day, an ISO week) from the seats snapshot the period reads
    (`snapshot_day`): users holding a seat in it, and before the first snapshot (the snapshot is
    after the period's day) only seats granted on or before that day. Reads a `seats` CTE. -#}
{% macro seat_holders(periods, period_column, as_of_day, extra_columns=[]) -%}
    select
        {{ periods }}.scope_type,
        {{ periods }}.scope_name,
        {{ periods }}.{{ period_column }},
        seats.user_id
        {%- for column in extra_columns %},
        {{ column }}
        {%- endfor %}
    from {{ periods }}
    inner join seats
        on
            {{ periods }}.scope_type = seats.scope_type
            and {{ periods }}.scope_name = seats.scope_name
            and {{ periods }}.snapshot_day = seats.snapshot_day
    where
        {{ periods }}.snapshot_day <= {{ periods }}.{{ as_of_day }}
        or cast(seats.created_at as date) <= {{ periods }}.{{ as_of_day }}
{%- endmacro %}

{#- The seat columns of the seat utilisation marts (daily and weekly): seats held by users (0
    without), GitHub's total_seats of the snapshot, active seat holders and inactive seats. Reads
    `holder_activity` (seats, active_seat_holders) and `seat_totals`. -#}
{% macro seat_utilisation_columns() -%}
        cast(coalesce(holder_activity.seats, 0) as bigint) as seats,
        seat_totals.total_seats,
        cast(coalesce(holder_activity.active_seat_holders, 0) as bigint) as active_seat_holders,
        cast(coalesce(holder_activity.seats, 0) - coalesce(holder_activity.active_seat_holders, 0) as bigint)
            as inactive_seats
{%- endmacro %}

{#- The pull-request counters of the aggregate reports, in the marts' column order (shared by the
    pull-request daily, weekly and repository marts). -#}
{% macro pull_request_counters() -%}
    {{ return([
        'pull_requests_created',
        'pull_requests_reviewed',
        'pull_requests_merged',
        'pull_requests_created_by_copilot',
        'pull_requests_merged_created_by_copilot',
        'pull_requests_reviewed_by_copilot',
        'pull_requests_merged_reviewed_by_copilot',
    ]) }}
{%- endmacro %}

{#- Columns passed on as they are, comma separated (a shared column list in a select). -#}
{% macro column_list(columns) -%}
    {%- for column in columns -%}
        {{ column }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- A daily median time to merge, null when no pull request of its kind was merged that day (a
    median over nothing is unknown, never 0); kept when the merged count is unknown. -#}
{% macro median_if_merged(median_column, merged_column) -%}
    case when coalesce({{ merged_column }}, 1) > 0 then {{ median_column }} end
{%- endmacro %}

{#- The code review suggestion counters of the pull-request marts, as the marts name them. -#}
{% macro suggestion_counters() -%}
    {{ return(['suggestions', 'applied_suggestions', 'copilot_suggestions', 'copilot_applied_suggestions']) }}
{%- endmacro %}

{#- Columns renamed from `<prefix><column>` to `<column>`, comma separated. -#}
{% macro unprefixed_columns(columns, prefix) -%}
    {%- for column in columns -%}
        {{ prefix }}{{ column }} as {{ column }}
        {%- if not loop.last %},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The leading columns of one breakdown in a scope x day x dimension union: the keys, the
    dimension's name and its value (the breakdown's own column, named like the dimension unless
    `value_column` says otherwise). -#}
{% macro breakdown_day_columns(dimension, value_column=none) -%}
        scope_type,
        scope_name,
        day,
        '{{ dimension }}' as dimension,
        {{ value_column or dimension }} as dimension_value
{%- endmacro %}

{#- A scope report's daily active users of the CLI or the desktop app: as reported, else 0 when the
    day has no totals object for it (no use), else unknown. -#}
{% macro daily_active_or_zero(count_column, totals_relation) -%}
        cast(
            case
                when {{ count_column }} is not null then {{ count_column }}
                when {{ totals_relation }}.day is null then 0
            end as bigint
        )
{%- endmacro %}
