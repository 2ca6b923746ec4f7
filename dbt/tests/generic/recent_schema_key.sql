{#- Flags record keys GitHub started sending recently: first seen after the report's first day in
    the warehouse and within `new_schema_key_days` days of the newest report day. A new field to
    review (and perhaps model). Use with severity warn. -#}
{% test recent_schema_key(model, first_day_column='first_day', last_day_column='last_day') %}

with

keys as (

    select
        *,
        min({{ first_day_column }}) over (partition by report) as report_first_day,
        max({{ last_day_column }}) over () as newest_day
    from {{ model }}

)

select *
from keys
where
    {{ first_day_column }} > report_first_day
    and {{ first_day_column }} >= newest_day - {{ var('new_schema_key_days', 7) }}

{% endtest %}
