"""Odd values GitHub supplied, as lines for a run summary: read from ``marts.fct_copilot_data_quality``.

The dbt project keeps GitHub's values as sent and never stops a build over them (their data tests
warn); the data-quality mart lists each anomaly with the fields and values involved. This module
turns that mart into short lines a DAG or ``make run`` prints after the transform, e.g.::

    organization:fc-org-east 2026-09-08 active_users_order: weekly_active_users=4 > monthly_active_users=3
"""

from __future__ import annotations

import logging
from pathlib import Path

from copilot_warehouse import warehouse

log = logging.getLogger(__name__)

SCHEMA = "marts"
MART = "fct_copilot_data_quality"
LINE_PREFIX = "source anomaly: "  # how run summaries print each line (and make run finds them)


def anomaly_lines(warehouse_path: str | Path, limit: int = 20) -> list[str]:
    """One line per anomaly in the data-quality mart, oldest day first.

    Each line reads ``<scope_type>:<scope_name> <day> <check_name>[ (<subject>)]: <finding>``;
    the subject (e.g. ``user user-amber (7001)``) is shown only when the values are not the
    scope's own record.

    Args:
        warehouse_path: the DuckDB file; opened read-only, so a running writer is waited for
            (``warehouse.connect``'s bounded wait) and never disturbed.
        limit: the most anomaly lines to return; when there are more, a last line
            ``... and N more`` says how many were left out. ``limit`` below 0 counts as 0.

    Returns:
        The lines (at most ``limit + 1``); ``[]`` when the file or the mart does not exist yet
        or holds no anomaly.

    Raises:
        copilot_warehouse.warehouse.WarehouseLockedError: another process kept the file locked
            for longer than the bounded wait.
    """
    path = Path(warehouse_path)
    if not path.is_file():
        return []
    limit = max(limit, 0)
    con = warehouse.connect(path, read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [SCHEMA, MART],
        ).fetchone()[0]
        if not exists:
            return []
        total = con.execute(f"select count(*) from {SCHEMA}.{MART}").fetchone()[0]
        found = con.execute(
            f"""select scope_type, scope_name, day, check_name, subject, finding
                from {SCHEMA}.{MART}
                order by day, scope_type, scope_name, check_name, subject nulls first, finding
                limit ?""",
            [limit],
        ).fetchall()
    finally:
        con.close()
    lines = [
        f"{scope_type}:{scope_name} {day.isoformat()} {check}{f' ({subject})' if subject else ''}: {finding}"
        for scope_type, scope_name, day, check, subject, finding in found
    ]
    if total > len(lines):
        lines.append(f"... and {total - len(lines)} more")
    return lines
