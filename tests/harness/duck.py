"""Read a test's DuckDB warehouse: :func:`query` opens it read-only for one statement."""

from __future__ import annotations

from pathlib import Path

import duckdb


def query(db: Path | str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """Rows of ``sql`` (with ``params``) from a read-only connection closed before returning."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
