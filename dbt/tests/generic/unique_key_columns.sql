{#- The combination of `columns` identifies at most one row (composite primary key). -#}
{% test unique_key_columns(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
