-- The seats listing's own count per scope and snapshot day: GitHub's total_seats (seats billed, a
-- member counted once) beside the number of seat rows the listing held (newest load wins).
with

deduped as (

    {{ latest_source_rows('copilot_seat_totals', ['scope_type', 'scope_name', 'snapshot_day']) }}

),

final as (

    select
        scope_type,
        scope_name,
        snapshot_day,
        total_seats,
        seat_rows,
        _load_id,
        _loaded_at
    from deduped

)

select * from final
