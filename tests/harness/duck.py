"""Read a test's DuckDB warehouse read-only: :func:`query` (one statement), :func:`schema_rows`."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import duckdb


def query(db: Path | str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """Rows of ``sql`` (with ``params``) from a read-only connection closed before returning."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def schema_rows(
    db: Path | str, schema: str, drop: Callable[[str], bool], distinct: Collection[str] = ()
) -> dict[str, list[tuple]]:
    """Every table of ``schema``: ``{table: rows sorted by repr}``, without the columns ``drop`` names.

    Tables named in ``distinct`` (append-only history) keep their distinct rows only. Used to
    compare two warehouses built from the same input by different paths.
    """
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            table
            for (table,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1",
                [schema],
            ).fetchall()
        ]
        result = {}
        for table in tables:
            columns = [
                column
                for (column,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if not drop(column)
            ]
            kept = ", ".join(f'"{c}"' for c in columns)
            modifier = "distinct " if table in distinct else ""
            rows = con.execute(f'select {modifier}{kept} from {schema}."{table}"').fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        con.close()
