{#- Run at the start of every dbt command (on-run-start): an incremental mart selected in this
    run whose stored columns differ from its contract's (a warehouse built by an earlier release,
    before a column was renamed, added or removed) is dropped, so this run builds it afresh from
    staging. Otherwise on_schema_change='append_new_columns' would keep the renamed-away column
    and leave the new ones null on every day outside the re-pull window. Incremental marts are
    recomputed from the raw tables, so nothing is lost. Returns no SQL.
-#}
{% macro rebuild_incremental_marts_with_changed_columns() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model'
                and node.unique_id in selected_resources
                and node.config.materialized == 'incremental'
                and node.config.contract.enforced -%}
                {%- set relation = adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.alias) -%}
                {%- if relation is not none -%}
                    {%- set stored = adapter.get_columns_in_relation(relation)
                        | map(attribute='name') | map('lower') | list -%}
                    {%- set contract = node.columns.keys() | map('lower') | list -%}
                    {%- if stored | sort != contract | sort -%}
                        {%- set gone = stored | reject('in', contract) | list -%}
                        {%- set new = contract | reject('in', stored) | list -%}
                        {{ log(
                            'Rebuilding ' ~ relation ~ ' from scratch: its stored columns differ from the contract'
                            ~ ' (no longer in the contract: ' ~ (gone | join(', ') or 'none')
                            ~ '; new: ' ~ (new | join(', ') or 'none') ~ ')',
                            info=true) }}
                        {%- do adapter.drop_relation(relation) -%}
                        {%- do adapter.commit() -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
