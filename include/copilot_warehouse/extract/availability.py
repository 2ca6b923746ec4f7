"""Which reports GitHub offers for each scope: recorded per (scope, report), probed once a day.

Not every report exists for every scope: ``repos-1-day`` is newer than the others and not every
plan or GHE.com region has it. A report whose newest requested day answers 404, for a scope whose
availability check passed, is *unavailable* for that scope. It is then:

- recorded once in ``raw.report_availability`` (one row per probe; the latest row per
  (scope, report) is its state) with the reason, shown by the run summary and data health;
- not counted as failed days and not re-fetched day by day (gap repair leaves it alone);
- probed again at most once per UTC day (the first run of a later day asks for it again), so it
  starts loading on the day GitHub turns it on.

Reading opens the warehouse read-only; writing happens in the loader's connection (the only
writer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from copilot_warehouse import config, redact


@dataclass(frozen=True)
class ReportState:
    """The latest probe of one report for one scope.

    Attributes:
        scope: the organization or enterprise.
        report: report name, e.g. ``repos-1-day``.
        available: whether the report answered (200 or 204) when last asked.
        http_status: status of that call.
        reason: why it is unavailable, in words (None when available).
        checked_day: UTC day of that call.
    """

    scope: config.Scope
    report: str
    available: bool
    http_status: int | None
    reason: str | None
    checked_day: date

    def describe(self) -> str:
        """One sentence: ``organization:acme repos-1-day: not offered for this organization (...)``."""
        if self.available:
            return f"{self.scope.label} {self.report}: available (checked {self.checked_day})"
        return (
            f"{self.scope.label} {self.report}: not offered for this {self.scope.type} "
            f"(HTTP {self.http_status}, checked {self.checked_day}); not fetched day by day, "
            f"asked again once a day. {self.reason or ''}"
        ).rstrip()


def record(
    con: Any,
    scope: config.Scope,
    report: str,
    *,
    available: bool,
    http_status: int | None,
    reason: str | None,
    checked_day: date | str,
    load_id: str,
) -> None:
    """Append one probe result to ``raw.report_availability`` (in the caller's connection)."""
    con.execute(
        "insert into raw.report_availability values (?, ?, ?, ?, ?, ?, ?, now(), ?)",
        [
            scope.type,
            scope.name,
            report,
            available,
            http_status,
            redact.redact(reason) if reason else None,
            config.parse_day(checked_day, "checked_day"),
            load_id,
        ],
    )


def latest_states(
    warehouse: str | Path | None, scopes: list[config.Scope] | None = None
) -> dict[tuple[config.Scope, str], ReportState]:
    """The latest recorded state of every (scope, report), read-only.

    Args:
        warehouse: DuckDB file; a missing file (or one without the table) means nothing is known.
        scopes: only these scopes (default all).

    Returns:
        ``{(scope, report): ReportState}``.
    """
    from copilot_warehouse import warehouse as wh

    path = Path(warehouse or config.warehouse_path())
    if not path.exists():
        return {}
    con = wh.connect(path, read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'report_availability'"
        ).fetchall()[0][0]
        if not exists:
            return {}
        rows = con.execute(
            """
            select scope_type, scope_name, report, available, http_status, reason, checked_day
            from raw.report_availability
            qualify row_number() over (
                partition by scope_type, scope_name, report order by checked_at desc, load_id desc
            ) = 1
            """
        ).fetchall()
    finally:
        con.close()
    wanted = set(scopes) if scopes is not None else None
    out = {}
    for scope_type, scope_name, report, available, status, reason, checked_day in rows:
        scope = config.Scope(scope_type, scope_name)
        if wanted is None or scope in wanted:
            out[(scope, report)] = ReportState(scope, report, bool(available), status, reason, checked_day)
    return out


def reports_to_skip(
    states: dict[tuple[config.Scope, str], ReportState], scope: config.Scope, today: date
) -> dict[str, str]:
    """Reports of ``scope`` found unavailable on ``today`` already: ``{report: description}``.

    A report found unavailable on an earlier day is not listed: the run asks for it again.
    """
    return {
        report: state.describe()
        for (s, report), state in states.items()
        if s == scope and not state.available and state.checked_day >= today
    }


def unavailable_reports(states: dict[tuple[config.Scope, str], ReportState], scope: config.Scope) -> set[str]:
    """Reports whose latest state for ``scope`` is unavailable (gap repair leaves them alone)."""
    return {report for (s, report), state in states.items() if s == scope and not state.available}
