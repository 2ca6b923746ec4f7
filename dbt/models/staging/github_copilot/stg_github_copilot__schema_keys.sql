-- Top-level record keys seen per report, with the first and last day they appeared.
with

source as (

    select * from {{ source('github_copilot', 'schema_keys') }}

),

final as (

    select
        report,
        key as record_key,
        first_day,
        last_day,
        first_load_id
    from source

)

select * from final
