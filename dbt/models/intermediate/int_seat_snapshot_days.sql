-- Every day a seats listing was taken, per scope, and whether it is the scope's latest listing.
-- A listing with no rows at all still counts (its total_seats is in the seat totals), so a scope
-- whose seats were all cancelled shows an empty latest listing, not an older full one.
with

seat_rows as (

    select * from {{ ref('int_seats_merged') }}

),

seat_totals as (

    select * from {{ ref('stg_github_copilot__seat_totals') }}

),

snapshot_days as (

    select
        scope_type,
        scope_name,
        snapshot_day
    from seat_rows
    union
    select
        scope_type,
        scope_name,
        snapshot_day
    from seat_totals

),

final as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        snapshot_day = max(snapshot_day) over (partition by scope_type, scope_name) as is_latest
    from snapshot_days

)

select * from final
