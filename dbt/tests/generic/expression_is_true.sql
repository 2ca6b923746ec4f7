{#- Every row satisfies the boolean SQL `expression` (rows where it is false are failures; a
    null result counts as true so optional metrics pass). -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), true)

{% endtest %}
