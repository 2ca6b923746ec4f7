-- One row per anomaly found in the values GitHub supplied: figures that contradict each other
-- (active-user counts out of order, more acceptances than generations, more code completion lines
-- added than suggested, more active members than daily active users), a per-user report for a day
-- whose aggregate report has no row, and seats listings whose rows are not all users or whose
-- total_seats disagrees with them. The values are kept as GitHub sent them and every mart is still
-- built: these rows say where they are odd.
-- Every row has severity 'warn' (severity follows ownership: GitHub's values never stop a build).
with

usage_days as (

    select * from {{ ref('int_usage_days_conformed') }}

),

member_days as (

    select * from {{ ref('int_member_days_activity') }}

),

breakdown_entries as (

    select * from {{ ref('int_aggregate_breakdowns_unioned') }}

),

seats as (

    select * from {{ ref('int_seats_merged') }}

),

seat_totals as (

    select * from {{ ref('stg_github_copilot__seat_totals') }}

),

ingest_attempts as (

    select * from {{ ref('stg_github_copilot__ingest_log') }}

),

report_availability as (

    select * from {{ ref('int_report_availability_latest') }}

),

-- active_users_order: a distinct count over a longer window can never be smaller
active_users_order as (

    select
        scope_type,
        scope_name,
        day,
        'active_users_order' as check_name,
        {{ aggregate_report_name('scope_type') }} as source_report,
        cast(null as varchar) as subject,
        concat_ws(
            ', ',
            case
                when daily_active_users > weekly_active_users
                    then 'daily_active_users > weekly_active_users'
            end,
            case
                when weekly_active_users > monthly_active_users
                    then 'weekly_active_users > monthly_active_users'
            end
        ) as fields,
        concat_ws(
            ', ',
            case
                when daily_active_users > weekly_active_users
                    then {{ named_value('daily_active_users', 'daily_active_users') }}
                        || ' > ' || {{ named_value('weekly_active_users', 'weekly_active_users') }}
            end,
            case
                when weekly_active_users > monthly_active_users
                    then {{ named_value('weekly_active_users', 'weekly_active_users') }}
                        || ' > ' || {{ named_value('monthly_active_users', 'monthly_active_users') }}
            end
        ) as finding,
        {{ named_value('daily_active_users', 'daily_active_users') }}
        || ', ' || {{ named_value('weekly_active_users', 'weekly_active_users') }}
        || ', ' || {{ named_value('monthly_active_users', 'monthly_active_users') }} as observed_values,
        'GitHub''s active-user counts for this day are out of order (daily <= weekly <= monthly must hold: '
        || 'a distinct count over a longer window cannot be smaller). The counts are kept as reported.'
            as description
    from usage_days
    where
        source_api = 'usage_metrics'
        and (daily_active_users > weekly_active_users or weekly_active_users > monthly_active_users)

),

-- acceptances_exceed_generations: on the scope's day record, its breakdown entries and user records
scope_acceptances as (

    select
        scope_type,
        scope_name,
        day,
        'acceptances_exceed_generations' as check_name,
        case
            when source_api = 'legacy_metrics' then 'legacy /copilot/metrics'
            else {{ aggregate_report_name('scope_type') }}
        end as source_report,
        cast(null as varchar) as subject,
        code_acceptances,
        code_generations
    from usage_days
    where code_acceptances > code_generations

),

breakdown_acceptances as (

    select
        scope_type,
        scope_name,
        day,
        'acceptances_exceed_generations' as check_name,
        {{ aggregate_report_name('scope_type') }} as source_report,
        breakdown || ' ' || breakdown_value as subject,
        code_acceptances,
        code_generations
    from breakdown_entries
    where code_acceptances > code_generations

),

member_acceptances as (

    select
        scope_type,
        scope_name,
        day,
        'acceptances_exceed_generations' as check_name,
        'users-1-day' as source_report,
        'user ' || coalesce({{ mart_login('user_login') }}, '?') || ' (' || cast(user_id as varchar) || ')'
            as subject,
        code_acceptances,
        code_generations
    from member_days
    where code_acceptances > code_generations

),

acceptance_rows as (

    select * from scope_acceptances
    union all
    select * from breakdown_acceptances
    union all
    select * from member_acceptances

),

acceptances_exceed_generations as (

    select
        scope_type,
        scope_name,
        day,
        check_name,
        source_report,
        subject,
        'code_acceptances > code_generations' as fields,
        {{ exceeds_finding('code_acceptances', 'code_generations') }},
        'GitHub reported more accepted than generated suggestions, so the acceptance rate computed from '
        || 'its counters exceeds 1. The counters are kept as reported.' as description
    from acceptance_rows

),

-- completion_lines_exceed_suggested: more code completion lines added than suggested, on the
-- scope's day (the code_completion entry of totals_by_feature; legacy: its lines) or a user record
completion_line_rows as (

    select
        scope_type,
        scope_name,
        day,
        case
            when source_api = 'legacy_metrics' then 'legacy /copilot/metrics'
            else {{ aggregate_report_name('scope_type') }}
        end as source_report,
        case when source_api = 'usage_metrics' then 'totals_by_feature code_completion' end as subject,
        completion_loc_added,
        completion_loc_suggested_to_add
    from usage_days
    where completion_loc_added > completion_loc_suggested_to_add

    union all

    select
        scope_type,
        scope_name,
        day,
        'users-1-day' as source_report,
        'user ' || coalesce({{ mart_login('user_login') }}, '?') || ' (' || cast(user_id as varchar) || ')'
            as subject,
        completion_loc_added,
        completion_loc_suggested_to_add
    from member_days
    where completion_loc_added > completion_loc_suggested_to_add

),

completion_lines_exceed_suggested as (

    select
        scope_type,
        scope_name,
        day,
        'completion_lines_exceed_suggested' as check_name,
        source_report,
        subject,
        'completion loc_added > loc_suggested_to_add' as fields,
        {{ exceeds_finding('completion_loc_added', 'completion_loc_suggested_to_add') }},
        'GitHub reported more code completion lines added than suggested, so the acceptance rate by lines '
        || '(completion_loc_acceptance_rate) exceeds 1. The counters are kept as reported.' as description
    from completion_line_rows

),

-- users_without_aggregate: a users-1-day day with records whose scope report has no row
member_report_days as (

    select
        scope_type,
        scope_name,
        day,
        count(*) as user_records,
        count(*) filter (where is_active) as active_members
    from member_days
    group by scope_type, scope_name, day

),

aggregate_attempts as (

    select
        scope_type,
        scope_name,
        day,
        arg_max(status, finished_at) as status,
        arg_max(http_status, finished_at) as http_status
    from ingest_attempts
    where report in ('organization-1-day', 'enterprise-1-day')
    group by scope_type, scope_name, day

),

users_without_aggregate as (

    select
        member_report_days.scope_type,
        member_report_days.scope_name,
        member_report_days.day,
        'users_without_aggregate' as check_name,
        'users-1-day' as source_report,
        cast(null as varchar) as subject,
        'users-1-day without ' || {{ aggregate_report_name('member_report_days.scope_type') }} as fields,
        {{ named_value('user_records', 'member_report_days.user_records') }}
        || ', ' || {{ aggregate_report_name('member_report_days.scope_type') }} || '='
        || coalesce(
            aggregate_attempts.status || coalesce(' (HTTP ' || aggregate_attempts.http_status || ')', ''),
            'not loaded'
        ) as finding,
        {{ named_value('user_records', 'member_report_days.user_records') }}
        || ', ' || {{ named_value('active_members', 'member_report_days.active_members') }}
        || ', ' || {{ aggregate_report_name('member_report_days.scope_type') }} || '_status='
        || coalesce(aggregate_attempts.status, 'not attempted')
        || coalesce(', http_status=' || aggregate_attempts.http_status, '') as observed_values,
        'GitHub published the per-user report for this day but the scope''s own report has no row (usually '
        || 'late, e.g. for a new organization). The members are in the member marts; the scope''s daily '
        || 'marts have no row for the day until its report arrives.' as description
    from member_report_days
    left join usage_days
        on
            member_report_days.scope_type = usage_days.scope_type
            and member_report_days.scope_name = usage_days.scope_name
            and member_report_days.day = usage_days.day
    left join aggregate_attempts
        on
            member_report_days.scope_type = aggregate_attempts.scope_type
            and member_report_days.scope_name = aggregate_attempts.scope_name
            and member_report_days.day = aggregate_attempts.day
    left join report_availability
        on
            member_report_days.scope_type = report_availability.scope_type
            and member_report_days.scope_name = report_availability.scope_name
            and report_availability.report = {{ aggregate_report_name('member_report_days.scope_type') }}
    where
        usage_days.day is null
        -- a scope report GitHub does not offer for the scope is shown in data health instead
        and coalesce(report_availability.is_available, true)

),

-- active_members_exceed_daily_active_users: the per-user report names more active members than
-- the scope report's daily_active_users
active_members_exceed_daily_active_users as (

    select
        usage_days.scope_type,
        usage_days.scope_name,
        usage_days.day,
        'active_members_exceed_daily_active_users' as check_name,
        {{ aggregate_report_name('usage_days.scope_type') }} || ', users-1-day' as source_report,
        cast(null as varchar) as subject,
        'active members in users-1-day > daily_active_users' as fields,
        {{ named_value('active_members', 'member_report_days.active_members') }}
        || ' > ' || {{ named_value('daily_active_users', 'usage_days.daily_active_users') }} as finding,
        {{ named_value('daily_active_users', 'usage_days.daily_active_users') }}
        || ', ' || {{ named_value('active_members', 'member_report_days.active_members') }}
        || ', ' || {{ named_value('user_records', 'member_report_days.user_records') }} as observed_values,
        'The per-user report has more active members for this day than the scope report''s '
        || 'daily_active_users; the two GitHub reports disagree.' as description
    from usage_days
    inner join member_report_days
        on
            usage_days.scope_type = member_report_days.scope_type
            and usage_days.scope_name = member_report_days.scope_name
            and usage_days.day = member_report_days.day
    where
        usage_days.source_api = 'usage_metrics'
        and member_report_days.active_members > usage_days.daily_active_users

),

-- the seat checks read each scope's latest seats listing
latest_seat_snapshots as (

    select * from {{ ref('int_seat_snapshot_days') }}
    where is_latest

),

latest_seat_counts as (

    select
        latest_seat_snapshots.scope_type,
        latest_seat_snapshots.scope_name,
        latest_seat_snapshots.snapshot_day,
        seat_totals.total_seats,
        seat_totals.seat_rows,
        count(seats.seat_key) filter (where seats.assignee_type = 'user') as user_seats,
        coalesce(sum(seats.seat_objects) filter (where seats.assignee_type = 'none'), 0) as null_assignee_rows,
        coalesce(sum(seats.seat_objects) filter (where seats.assignee_type = 'team'), 0) as team_assignee_rows,
        string_agg(distinct seats.assignee_team_slug, ', ' order by seats.assignee_team_slug) as team_slugs
    from latest_seat_snapshots
    left join seats
        on
            latest_seat_snapshots.scope_type = seats.scope_type
            and latest_seat_snapshots.scope_name = seats.scope_name
            and latest_seat_snapshots.snapshot_day = seats.snapshot_day
    left join seat_totals
        on
            latest_seat_snapshots.scope_type = seat_totals.scope_type
            and latest_seat_snapshots.scope_name = seat_totals.scope_name
            and latest_seat_snapshots.snapshot_day = seat_totals.snapshot_day
    group by
        latest_seat_snapshots.scope_type,
        latest_seat_snapshots.scope_name,
        latest_seat_snapshots.snapshot_day,
        seat_totals.total_seats,
        seat_totals.seat_rows

),

-- seat_assignee_not_a_user: seat rows with a null or Team-shaped assignee
seat_assignee_not_a_user as (

    select
        scope_type,
        scope_name,
        snapshot_day as day,
        'seat_assignee_not_a_user' as check_name,
        'copilot/billing/seats' as source_report,
        cast(null as varchar) as subject,
        'assignee' as fields,
        {{ named_value('null_assignee_rows', 'null_assignee_rows') }}
        || ', ' || {{ named_value('team_assignee_rows', 'team_assignee_rows') }}
        || coalesce(' (' || team_slugs || ')', '') as finding,
        {{ named_value('seat_rows', 'seat_rows') }}
        || ', ' || {{ named_value('user_seats', 'user_seats') }}
        || ', ' || {{ named_value('null_assignee_rows', 'null_assignee_rows') }}
        || ', ' || {{ named_value('team_assignee_rows', 'team_assignee_rows') }} as observed_values,
        'The seats listing has rows whose assignee is null or a Team rather than a user. They are kept '
        || '(dim_copilot_seats, assignee_type) but count as no member, inactive or never-used seat.'
            as description
    from latest_seat_counts
    where null_assignee_rows + team_assignee_rows > 0

),

-- seat_total_mismatch: GitHub's total_seats against the users holding a seat in the same listing
seat_total_mismatch as (

    select
        scope_type,
        scope_name,
        snapshot_day as day,
        'seat_total_mismatch' as check_name,
        'copilot/billing/seats' as source_report,
        cast(null as varchar) as subject,
        'total_seats != user seats' as fields,
        {{ named_value('total_seats', 'total_seats') }}
        || ' != ' || {{ named_value('user_seats', 'user_seats') }} as finding,
        {{ named_value('total_seats', 'total_seats') }}
        || ', ' || {{ named_value('seat_rows', 'seat_rows') }}
        || ', ' || {{ named_value('user_seats', 'user_seats') }} as observed_values,
        'The seats listing''s total_seats differs from the number of users holding a seat in it '
        || '(seats without a user assignee, or a listing that changed while it was paged). Seat marts '
        || 'count users; total_seats is shown beside them as GitHub reported it.' as description
    from latest_seat_counts
    where total_seats is not null and total_seats != user_seats

),

anomalies as (

    select * from active_users_order
    union all
    select * from acceptances_exceed_generations
    union all
    select * from completion_lines_exceed_suggested
    union all
    select * from users_without_aggregate
    union all
    select * from active_members_exceed_daily_active_users
    union all
    select * from seat_assignee_not_a_user
    union all
    select * from seat_total_mismatch

),

final as (

    select
        scope_type,
        scope_name,
        day,
        check_name,
        source_report,
        subject,
        fields,
        observed_values,
        finding,
        description,
        'warn' as severity,
        md5(concat_ws(
            '|', scope_type, scope_name, cast(day as varchar), check_name, source_report, coalesce(subject, '')
        )) as anomaly_id
    from anomalies

)

select * from final
