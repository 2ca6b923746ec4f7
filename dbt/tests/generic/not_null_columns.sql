{#- None of `columns` is null (the parts of a composite primary key). -#}
{% test not_null_columns(model, columns) %}

select *
from {{ model }}
where
    {%- for column in columns %}
    {{ column }} is null{% if not loop.last %} or{% endif %}
    {%- endfor %}

{% endtest %}
