"""The marts summary ``make run`` and ``make backfill`` end with (``python -m copilot_warehouse summary``).

Rows per mart, the latest weekly acceptance rate per scope and where the HTML report is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from copilot_warehouse import config


def _say(text: str) -> None:
    print(text, flush=True)


def mart_counts(con) -> list[tuple[str, int]]:
    """``(table, rows)`` for every table of the ``marts`` schema, by name."""
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()
    return [(t, con.execute(f'select count(*) from marts."{t}"').fetchall()[0][0]) for (t,) in tables]


def latest_weekly_acceptance(con) -> list[tuple]:
    """Latest ISO week per scope.

    Returns:
        ``(label, week_start, days_with_data, acceptances, generations, rate, lines_rate)`` per
        scope: ``rate`` is acceptances / generations, ``lines_rate`` code completion lines
        accepted / suggested (0-1; None without suggested lines, or for a warehouse built before
        the column existed).
    """
    columns = {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_copilot_acceptance_weekly'"
        ).fetchall()
    }
    lines_rate = (
        "completion_loc_acceptance_rate"
        if "completion_loc_acceptance_rate" in columns
        else "cast(null as double)"
    )
    return con.execute(
        f"""
        select scope_type || ':' || scope_name, week_start, days_with_data, code_acceptances,
               code_generations, acceptance_rate, {lines_rate}
        from marts.fct_copilot_acceptance_weekly
        qualify row_number() over (partition by scope_type, scope_name order by week_start desc) = 1
        order by scope_type desc, scope_name
        """
    ).fetchall()


def print_summary(warehouse: str | Path | None = None, scopes: list[config.Scope] | None = None) -> int:
    """Print rows per mart, the latest weekly acceptance rate per scope and the report path.

    Args:
        warehouse: the DuckDB file (default ``config.warehouse_path()``).
        scopes: the scopes this run was configured with; others in the warehouse (kept from
            earlier runs) are marked as such.
    """
    from copilot_warehouse import warehouse as wh

    path = Path(warehouse or config.warehouse_path())
    if not path.exists():
        _say(f"no warehouse at {path}: run `make run` first")
        return 1
    con = wh.connect(path, read_only=True)
    try:
        counts = mart_counts(con)
        if not counts:
            _say(f"{path} has no marts yet: the transform (dbt build) has not run")
            return 1
        _say(f"\nWarehouse {path}")
        _say("Rows per mart:")
        for table, n in counts:
            _say(f"  marts.{table:<40} {n:>8}")
        if any(t == "fct_copilot_acceptance_weekly" for t, _ in counts):
            rows = latest_weekly_acceptance(con)
            if not rows:
                _say("No weekly acceptance rate yet: no scope has a loaded day.")
            else:
                _say(
                    "Latest weekly acceptance rate per scope (acceptances / generations, ISO week; "
                    "by lines: code completion lines accepted / suggested):"
                )
            current = {s.label for s in scopes} if scopes is not None else None
            earlier = []
            for label, week, days, acc, gen, rate, lines_rate in rows:
                shown = f"{rate:.1%}" if rate is not None else "n/a"
                by_lines = f"{lines_rate:.1%}" if lines_rate is not None else "n/a"
                mark = ""
                if current is not None and label not in current:
                    mark = "  (from an earlier run)"
                    earlier.append(label)
                _say(
                    f"  {label:<36} week of {week}  {shown:>6}  ({acc}/{gen}, {days} day(s) of data)"
                    f"  by lines {by_lines}{mark}"
                )
            if earlier:
                _say(
                    "  The warehouse keeps every scope loaded before; `make clean` starts afresh "
                    "(or set COPILOT_WAREHOUSE_PATH)."
                )
    finally:
        con.close()
    report = path.parent / "report" / "index.html"
    if report.exists():
        _say(f"Report: {report}")
    return 0


def cli(command: str, argv: list[str]) -> int:
    """Entry point of ``python -m copilot_warehouse summary``."""
    try:
        return print_summary()
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
