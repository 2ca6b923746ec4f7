{#- A join condition that matches two relations on the same key columns, spelled out:
    `left.k1 = right.k1 and left.k2 = right.k2 ...` (the house style: no `using`).

    Args:
        left: alias of the relation on the left.
        right: alias of the relation on the right.
        key_columns: the columns both carry, e.g. ['scope_type', 'scope_name', 'day'].
-#}
{% macro keys_match(left, right, key_columns) -%}
    {%- for column in key_columns %}
    {% if not loop.first %}and {% endif %}{{ left }}.{{ column }} = {{ right }}.{{ column }}
    {%- endfor %}
{%- endmacro %}
