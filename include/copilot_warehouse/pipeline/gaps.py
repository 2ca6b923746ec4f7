"""Gap detection and freshness: which partitions still need fetching, and is data still arriving.

A partition is one (scope, report, day). ``raw.ingest_log`` holds one row per attempt; the latest
row of a partition is its state. A partition is a *gap* when, inside the window GitHub still
serves, its latest state is ``no_report`` (GitHub answered 204), ``failed``, or it has no row at
all although later and earlier days of the same scope were fetched (a hole). The latest
``*-28-day/latest`` report adds two more kinds: days it holds that were never loaded
(``missing``), and loaded days whose counters disagree with it (``disagrees``). Reports GitHub does
not offer for a scope (:mod:`availability`) have no gaps. The ingest DAG adds
the days of these gaps to every run, so they are re-fetched until they arrive or age out of
GitHub's window. Everything here opens the warehouse read-only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from copilot_warehouse import config
from copilot_warehouse.pipeline import schedule

log = logging.getLogger(__name__)

GAP_STATUSES = ("no_report", "failed")
DEFAULT_MAX_GAP_DAYS = 14  # bounds the extra API calls one run spends on repair
FRESHNESS_MAX_AGE_DAYS = 4


@dataclass(frozen=True, order=True)
class Gap:
    """One partition that should be fetched again."""

    scope: config.Scope
    report: str
    day: date
    reason: str  # 'no_report' | 'failed' | 'missing' | 'disagrees'

    def describe(self) -> str:
        """``organization:octo-demo users-1-day 2026-11-02 (no_report)``."""
        return f"{self.scope.label} {self.report} {self.day} ({self.reason})"


def _open_read_only(warehouse: str | Path | None):
    """A read-only connection, or None when the warehouse or its ingest log does not exist yet."""
    from copilot_warehouse import warehouse as wh

    path = Path(warehouse or config.warehouse_path())
    if not path.exists():
        return None
    con = wh.connect(path, read_only=True)
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'ingest_log'"
    ).fetchall()[0][0]
    if not exists:
        con.close()
        return None
    return con


def _latest_states(con, scope: config.Scope, first: date, last: date) -> dict[tuple[str, date], str]:
    """Latest status of every logged daily (report, day) of ``scope`` between ``first`` and ``last``.

    28-day reports are logged under their end day; they are a completeness check, not partitions
    to repair, and must not widen the range in which a day counts as missing.
    """
    rows = con.execute(
        """
        select report, day, status
        from raw.ingest_log
        where scope_type = ? and scope_name = ? and day between ? and ? and list_contains(?, report)
        qualify row_number() over (partition by report, day order by finished_at desc, load_id desc) = 1
        """,
        [scope.type, scope.name, first, last, list(config.DAILY_REPORTS[scope.type])],
    ).fetchall()
    return {(report, day): status for report, day, status in rows}


# Counters compared between a day of the 28-day report and the landed 1-day aggregate.
_COMPARED_COUNTERS = ("code_generation_activity_count", "code_acceptance_activity_count")


def _checked_against_28_day(con, scope: config.Scope, first: date, last: date) -> list[Gap]:
    """Loaded days whose aggregate counters disagree with the latest 28-day report.

    (Days of the 28-day report never loaded need no check here: inside the fetched range every
    day without a ``loaded`` status is already a gap candidate.)
    """
    aggregate_28 = config.LATEST_28_DAY_REPORTS[scope.type][0]
    aggregate_1 = config.DAILY_REPORTS[scope.type][0]
    counters = ", ".join(f"'{c}'" for c in _COMPARED_COUNTERS)
    rows = con.execute(
        f"""
        with latest as (
            select record from raw.copilot_reports_28_day
            where scope_type = ? and scope_name = ? and report = ?
            qualify row_number() over (order by report_end_day desc, _loaded_at desc) = 1
        ),
        expected as (
            select cast(t.value ->> 'day' as date) as day, t.value as totals
            from latest, json_each(latest.record -> 'day_totals') as t
        ),
        landed as (
            select day, any_value(record) as record
            from raw.copilot_usage_aggregate
            where scope_type = ? and scope_name = ? and report = ?
            group by day
        )
        select expected.day
        from expected
        inner join landed on landed.day = expected.day
        cross join unnest([{counters}]) as u(c)
        where expected.day between ? and ?
        group by expected.day
        having bool_or(
            try_cast(expected.totals ->> c as double)
            is distinct from try_cast(landed.record ->> c as double)
        )
        """,
        [scope.type, scope.name, aggregate_28, scope.type, scope.name, aggregate_1, first, last],
    ).fetchall()
    reports = config.DAILY_REPORTS[scope.type]
    return [Gap(scope, report, day, "disagrees") for (day,) in rows for report in reports]


def find_gaps(
    warehouse: str | Path | None,
    scopes: list[config.Scope],
    today: date,
    *,
    lag_days: int = config.PUBLISH_LAG_DAYS,
    max_days: int = DEFAULT_MAX_GAP_DAYS,
) -> list[Gap]:
    """List the partitions of ``scopes`` that are missing, answered 204 or failed.

    Only days GitHub still serves (``schedule.oldest_available_day``) up to the newest published
    day (``today - lag_days``) are considered; a day with no row at all counts as missing only
    between the scope's first and last logged day (before its first load it is a backfill's job,
    not gap repair). At most ``max_days`` distinct days per scope are returned, newest first
    (those are the likeliest to have arrived since).

    Args:
        warehouse: DuckDB file (read-only); a missing file means no gaps.
        scopes: the configured scopes.
        today: the run's UTC day.
        lag_days: publishing lag; newer days are the scheduled window's business.
        max_days: cap on repaired days per scope and run.

    Returns:
        Gaps sorted by scope, report, day.
    """
    from copilot_warehouse.extract import availability

    states = availability.latest_states(warehouse, scopes)
    con = _open_read_only(warehouse)
    if con is None:
        return []
    gaps: list[Gap] = []
    try:
        for scope in scopes:
            # A report GitHub does not offer for the scope is asked for once a day by the normal
            # window instead (see availability): its days are no gaps.
            not_offered = availability.unavailable_reports(states, scope)
            first = schedule.oldest_available_day(scope, today)
            last = today - timedelta(days=lag_days)
            if last < first:
                continue
            states = _latest_states(con, scope, first, last)
            if not states:
                continue
            logged_days = sorted({day for _, day in states})
            candidates: set[Gap] = set()
            for report in config.DAILY_REPORTS[scope.type]:
                if report in not_offered:
                    continue
                for day in config.day_range(logged_days[0], logged_days[-1]):
                    status = states.get((report, day))
                    if status is None:
                        candidates.add(Gap(scope, report, day, "missing"))
                    elif status in GAP_STATUSES:
                        candidates.add(Gap(scope, report, day, status))
            known = {(g.report, g.day) for g in candidates}
            candidates |= {
                g
                # Only inside the days this scope was fetched for: a run never widens the range
                # the user asked for (newer days are the scheduled window's business).
                for g in _checked_against_28_day(con, scope, logged_days[0], logged_days[-1])
                if (g.report, g.day) not in known and g.report not in not_offered
            }
            keep_days = sorted({g.day for g in candidates}, reverse=True)[: max(max_days, 0)]
            dropped = len({g.day for g in candidates}) - len(keep_days)
            if dropped:
                log.warning(
                    "%s: %d more gap day(s) wait for later runs (at most %d per run)",
                    scope.label,
                    dropped,
                    max_days,
                )
            gaps += [g for g in candidates if g.day in set(keep_days)]
    finally:
        con.close()
    return sorted(gaps)


def gap_days_by_scope(gaps: list[Gap]) -> dict[config.Scope, list[date]]:
    """Distinct days per scope (what a fetch re-requests)."""
    out: dict[config.Scope, set[date]] = {}
    for gap in gaps:
        out.setdefault(gap.scope, set()).add(gap.day)
    return {scope: sorted(days) for scope, days in out.items()}


@dataclass(frozen=True)
class Freshness:
    """Newest loaded report day of one scope and whether it is too old."""

    scope: config.Scope
    latest_day: date | None
    age_days: int | None
    stale: bool
    simulator_last_day: date | None = None  # set when the data comes from the bundled simulator

    @property
    def message(self) -> str:
        """A sentence for logs and alerts."""
        if self.latest_day is None:
            return f"{self.scope.label}: no report day has been loaded yet"
        if self.simulator_last_day is not None:  # fixed history: its age says nothing
            return (
                f"{self.scope.label}: newest report day {self.latest_day} "
                f"(the bundled simulator's data ends on {self.simulator_last_day})"
            )
        state = "STALE" if self.stale else "fresh"
        return (
            f"{self.scope.label}: newest report day {self.latest_day} is {self.age_days} day(s) old "
            f"({state}; alert above {FRESHNESS_MAX_AGE_DAYS})"
        )


def check_freshness(
    warehouse: str | Path | None,
    scopes: list[config.Scope],
    today: date,
    max_age_days: int = FRESHNESS_MAX_AGE_DAYS,
    simulator_last_day: date | None = None,
) -> list[Freshness]:
    """Newest day with a loaded report per scope; stale when older than ``max_age_days``.

    Args:
        warehouse: DuckDB file (read-only).
        scopes: the configured scopes.
        today: the run's UTC day.
        max_age_days: days without a new report day before it counts as stale.
        simulator_last_day: the bundled simulator's last day when the data comes from it
            (``config.simulator_last_day()``): its history ends on a fixed day, so a loaded scope
            is never stale and the message says where the data ends; None for real GitHub.
    """
    con = _open_read_only(warehouse)
    latest: dict[tuple[str, str], date] = {}
    if con is not None:
        try:
            # Daily reports only: a *-28-day/latest report is logged under its end day, which
            # says nothing about whether the daily reports still arrive.
            daily = sorted({r for reports in config.DAILY_REPORTS.values() for r in reports})
            rows = con.execute(
                "select scope_type, scope_name, max(day) from raw.ingest_log "
                "where status = 'loaded' and list_contains(?, report) group by all",
                [daily],
            ).fetchall()
            latest = {(t, n): d for t, n, d in rows}
        finally:
            con.close()
    out = []
    for scope in scopes:
        day = latest.get((scope.type, scope.name))
        age = (today - day).days if day is not None else None
        stale = day is None or (simulator_last_day is None and age > max_age_days)
        out.append(Freshness(scope, day, age, stale, simulator_last_day))
    return out
