"""Reads the marts for the report: read-only queries that never invent data.

Every query goes through :class:`MartReader`, which knows which marts exist. A panel whose mart
is absent, unreadable or empty for a scope gets a :class:`Rows` with no rows and a ``note`` that
says why, and the template shows that note instead of a chart or table.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = "marts"
USAGE_DAILY = "fct_copilot_usage_daily"
ACCEPTANCE_WEEKLY = "fct_copilot_acceptance_weekly"
MEMBER_SUMMARY = "fct_copilot_member_summary"
MEMBER_DAILY = "fct_copilot_member_daily"
BY_DIMENSION_DAILY = "fct_copilot_usage_by_dimension_daily"
WEEKLY_BY_DIMENSION = "fct_copilot_acceptance_weekly_by_dimension"
SEATS = "dim_copilot_seats"
DATA_HEALTH = "fct_copilot_data_health"
PARTITION_STATUS = "fct_copilot_partition_status"
DATA_QUALITY = "fct_copilot_data_quality"
# Marts beyond the DESIGN §3 contract that the report shows when they exist.
TEAM_USAGE_WEEKLY = "fct_copilot_team_usage_weekly"
SEAT_UTILISATION_WEEKLY = "fct_copilot_seat_utilisation_weekly"

# Marts that carry scope_type/scope_name and so tell which scopes the report covers.
SCOPED_MARTS = (USAGE_DAILY, ACCEPTANCE_WEEKLY, MEMBER_SUMMARY, SEATS, DATA_HEALTH)
WINDOW_DAYS = 28  # the trailing window behind "last 28 days" figures
DIMENSIONS = ("language", "ide", "model", "feature")
TOP_MEMBERS = 10
TOP_DIMENSION_VALUES = 10
TOP_TEAMS = 25
MAX_ANOMALY_ROWS = 200  # newest first; the data-quality mart holds them all

# The GitHub reports each scoped mart is built from ("{scope}" stands for the scope's own
# organization-1-day or enterprise-1-day report): a panel left empty names those of them that
# data health lists as not offered for the scope.
MART_REPORTS: dict[str, tuple[str, ...]] = {
    USAGE_DAILY: ("{scope}-1-day",),
    ACCEPTANCE_WEEKLY: ("{scope}-1-day",),
    MEMBER_SUMMARY: ("users-1-day",),
    TEAM_USAGE_WEEKLY: ("users-1-day", "user-teams-1-day"),
    "fct_copilot_pull_requests_weekly": ("{scope}-1-day",),
    "fct_copilot_agent_users_daily": ("{scope}-1-day",),
    "fct_copilot_repository_activity_daily": ("repos-1-day",),
    "fct_copilot_cli_weekly": ("users-1-day",),
    "fct_copilot_ai_credits_weekly": ("users-1-day",),
    "fct_copilot_ai_credits_team_weekly": ("users-1-day", "user-teams-1-day"),
    "fct_copilot_ai_credits_by_model_daily": ("users-1-day",),
}


def recent_weeks_sql(mart: str) -> str:
    """The ``with scoped as (...), recent as (...)`` head of a query over one scope's rows of a
    weekly mart (parameters: scope_type, scope_name) in its last :data:`WINDOW_DAYS` days of
    weeks; ``recent`` carries ``last_week``, the scope's newest week."""
    return _recent_sql(mart, "week_start", "last_week")


def recent_teams_sql(mart: str, latest: str, sums: str, order_by: str, limit: int) -> str:
    """A query of one scope's teams (parameters: scope_type, scope_name) over the last
    :data:`WINDOW_DAYS` days of weeks of a weekly team mart: ``team_slug``,
    ``first_week``/``last_week``, the latest week's ``team_members`` and ``latest`` (distinct
    counts, never summed over weeks), then ``sums`` (a select list over the weeks), the first
    ``limit`` teams by ``order_by``."""
    return (
        recent_weeks_sql(mart)
        + f"""
            select team_slug,
                   min(week_start) as first_week, max(last_week) as last_week,
                   max(team_members) filter (where week_start = last_week) as team_members,
                   max({latest}) filter (where week_start = last_week) as {latest},
                   {sums}
            from recent
            group by team_id, team_slug
            order by {order_by}
            limit {limit}"""
    )


def recent_days_sql(mart: str, where: str = "") -> str:
    """The same head over a daily mart: one scope's rows (parameters: scope_type, scope_name,
    then those of ``where``, extra ``and ...`` conditions) in its last :data:`WINDOW_DAYS` days
    of data; ``recent`` carries ``last_day``, the scope's newest day."""
    return _recent_sql(mart, "day", "last_day", where)


def _recent_sql(mart: str, period: str, last: str, where: str = "") -> str:
    return f"""with scoped as (
                select * from {SCHEMA}.{mart} where scope_type = ? and scope_name = ?{where}
            ),
            recent as (
                select scoped.*, bounds.{last}
                from scoped
                cross join (select max({period}) as {last} from scoped) as bounds
                where scoped.{period} > bounds.{last} - interval {WINDOW_DAYS} day
            )"""


@dataclass(frozen=True, order=True)
class ScopeKey:
    """An organization or enterprise as it appears in the marts."""

    scope_type: str
    scope_name: str

    @property
    def slug(self) -> str:
        """HTML-id-safe identifier, e.g. ``organization-octo-demo``."""
        return f"{self.scope_type}-{self.scope_name}"

    @property
    def title(self) -> str:
        kind = "Enterprise" if self.scope_type == "enterprise" else "Organization"
        return f"{kind} {self.scope_name}"

    @property
    def params(self) -> list[str]:
        """``[scope_type, scope_name]``: the parameters of a ``scope_type = ? and scope_name = ?``."""
        return [self.scope_type, self.scope_name]


@dataclass
class Rows:
    """Result of a mart query: the rows, or a note saying why there are none."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)


def plain(value: Any) -> Any:
    """Turn a DuckDB value into something JSON and templates handle (dates as ISO strings)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class MartReader:
    """Runs queries against the ``marts`` schema of a read-only DuckDB connection.

    Args:
        con: a ``duckdb.DuckDBPyConnection`` (opened with ``read_only=True``).
    """

    def __init__(self, con: Any) -> None:
        self.con = con
        found = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [SCHEMA],
        ).fetchall()
        self.columns: dict[str, list[str]] = {}
        for table, column in found:
            self.columns.setdefault(table, []).append(column)
        self._unavailable: dict[ScopeKey, list[str]] = {}  # data health's entries, read once per scope

    def has(self, mart: str) -> bool:
        """Whether ``marts.<mart>`` exists."""
        return mart in self.columns

    def missing_note(self, mart: str) -> str:
        return (
            f"No data: the mart {SCHEMA}.{mart} is not in the warehouse yet "
            "(it is built by `make run` or the transform DAG)."
        )

    def query(
        self,
        mart: str,
        sql: str,
        params: list[Any] | None = None,
        empty: str | None = None,
        scope: ScopeKey | None = None,
    ) -> Rows:
        """Run ``sql`` (which reads ``marts.<mart>``) and return its rows as dicts.

        Args:
            mart: the mart the query reads; checked for existence first.
            sql: the query text.
            params: positional parameters (``?``).
            empty: the note to give when the query returns no rows.
            scope: the scope the query is for; without ``empty``, no rows give
                :meth:`empty_note` (worked out only then).

        Returns:
            Rows with plain values, or no rows and a note (mart absent, unreadable or empty).
        """
        if not self.has(mart):
            return Rows(note=self.missing_note(mart))
        try:
            cur = self.con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            rows = [{k: plain(v) for k, v in zip(names, rec, strict=True)} for rec in cur.fetchall()]
        except Exception as exc:  # a mart whose shape differs from the contract: say so, go on
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            log.warning("report: could not read %s.%s: %s", SCHEMA, mart, first_line)
            return Rows(note=f"No data: {SCHEMA}.{mart} could not be read ({first_line}).")
        if not rows:
            if empty is None and scope is not None:
                empty = self.empty_note(mart, scope)
            return Rows(note=empty or f"No data in {SCHEMA}.{mart}.")
        return Rows(rows=rows)

    def scope_rows(self, mart: str, columns: str, scope: ScopeKey, order_by: str) -> Rows:
        """``columns`` (a select list) of one scope's rows of ``mart``, ordered by ``order_by``
        (e.g. ``day``: oldest first); no rows give :meth:`empty_note`."""
        return self.query(
            mart,
            f"""select {columns}
            from {SCHEMA}.{mart}
            where scope_type = ? and scope_name = ?
            order by {order_by}""",
            scope.params,
            scope=scope,
        )

    def unavailable(self, scope: ScopeKey, report: str) -> str | None:
        """Why GitHub gives no ``report`` (e.g. ``repos-1-day``) for ``scope``, or None.

        Reads ``unavailable_reports`` of ``marts.fct_copilot_data_health`` (entries such as
        ``repos-1-day (HTTP 404)``, comma-separated).

        Returns:
            e.g. ``"repos-1-day is not offered for this organization (GitHub answered 404)"``, or
            None when the report is not listed (or the data-health mart is absent or unreadable).
        """
        if scope not in self._unavailable:
            self._unavailable[scope] = self._unavailable_entries(scope)
        kind = "enterprise" if scope.scope_type == "enterprise" else "organization"
        for entry in self._unavailable[scope]:
            match = re.fullmatch(rf"\s*{re.escape(report)}(?:\s*\(HTTP (\d+)\))?\s*", entry)
            if match:
                answer = f" (GitHub answered {match.group(1)})" if match.group(1) else ""
                return f"{report} is not offered for this {kind}{answer}"
        return None

    def _unavailable_entries(self, scope: ScopeKey) -> list[str]:
        """The scope's ``unavailable_reports`` entries in data health ([] when absent/unreadable)."""
        if "unavailable_reports" not in self.columns.get(DATA_HEALTH, []):
            return []
        try:
            found = self.con.execute(
                f"select unavailable_reports from {SCHEMA}.{DATA_HEALTH} "
                "where scope_type = ? and scope_name = ?",
                scope.params,
            ).fetchall()
        except Exception:  # an unreadable data-health mart only loses the reason, not the panel
            return []
        return [entry for (listed,) in found for entry in (listed or "").split(",")]

    def empty_note(self, mart: str, scope: ScopeKey, reports: tuple[str, ...] | None = None) -> str:
        """The note for a mart without rows for ``scope``: which mart and, when known, why.

        Args:
            mart: the mart read.
            scope: the organization or enterprise.
            reports: the GitHub reports the mart is built from (e.g. ``("repos-1-day",)``); those
                data health lists as unavailable for the scope are named in the note. Default:
                the mart's entry in :data:`MART_REPORTS`.
        """
        if reports is None:
            reports = tuple(r.format(scope=scope.scope_type) for r in MART_REPORTS.get(mart, ()))
        note = f"No data for {scope.title} in {SCHEMA}.{mart}"
        reasons = [r for r in (self.unavailable(scope, report) for report in reports) if r]
        return f"{note}: {'; '.join(reasons)}." if reasons else f"{note}."

    # --- scopes ---------------------------------------------------------------------------
    def scopes(self) -> list[ScopeKey]:
        """Every scope found in the scoped marts: organizations first, then enterprises."""
        parts = [
            f"select distinct scope_type, scope_name from {SCHEMA}.{m}"
            for m in SCOPED_MARTS
            if {"scope_type", "scope_name"} <= set(self.columns.get(m, []))
        ]
        if not parts:
            return []
        found = self.con.execute(" union ".join(parts)).fetchall()
        keys = {ScopeKey(str(t), str(n)) for t, n in found if t is not None and n is not None}
        return sorted(keys, key=lambda s: (s.scope_type != "organization", s.scope_name))
