"""The report's panels: one query per panel, turned into KPI cards, charts or tables.

Each function takes a :class:`MartReader` (and a scope) and returns view objects the template
renders. Numbers are read from the marts as they are; the only arithmetic here is summing
additive counters over a window and dividing the sums (DESIGN.md §3: rates are sums over sums,
distinct-user counts are never added up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from copilot_warehouse.serve.report import charts
from copilot_warehouse.serve.report.data import (
    ACCEPTANCE_WEEKLY,
    BY_DIMENSION_DAILY,
    DATA_HEALTH,
    DATA_QUALITY,
    DIMENSIONS,
    MAX_ANOMALY_ROWS,
    MEMBER_DAILY,
    MEMBER_SUMMARY,
    PARTITION_STATUS,
    SCHEMA,
    SEAT_UTILISATION_WEEKLY,
    SEATS,
    TEAM_USAGE_WEEKLY,
    TOP_DIMENSION_VALUES,
    TOP_MEMBERS,
    TOP_TEAMS,
    USAGE_DAILY,
    WINDOW_DAYS,
    MartReader,
    Rows,
    ScopeKey,
    recent_days_sql,
    recent_teams_sql,
)

DIMENSION_TITLES = {"language": "language", "ide": "IDE", "model": "model", "feature": "feature"}
# Headings for columns read generically from a mart (data health, partition status).
_ACRONYMS = {"http": "HTTP", "api": "API", "id": "ID", "ide": "IDE", "loc": "Lines of code"}


@dataclass
class Kpi:
    """A headline number: label, formatted value and a line of context (date, window)."""

    label: str
    value: str
    detail: str = ""
    tone: str = ""  # "good" | "bad" | "" (colours a change)


@dataclass
class Column:
    """A table column: the row key, its heading and how to format it."""

    key: str
    label: str
    fmt: str = "text"  # text | int | dec | usd | pct | pp | date | bool | link (to the row's scope section)


@dataclass
class Panel:
    """One box of the report: a chart, a table or a note saying why there is no data."""

    id: str
    title: str
    source: str  # the mart(s) behind it, shown under the panel
    subtitle: str = ""
    figure: dict | None = None
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None
    wide: bool = False
    note_ok: bool = False  # the note is good news (e.g. nothing failed), not missing data

    @property
    def kind(self) -> str:
        if self.figure is not None:
            return "chart"
        if self.rows:
            return "table"
        return "note"


@dataclass
class ScopeSection:
    """Everything shown for one organization or enterprise."""

    scope: ScopeKey
    kpis: list[Kpi]
    kpi_note: str | None
    panels: list[Panel]


# --- formatting -------------------------------------------------------------------------------
def fmt(value: Any, kind: str = "text") -> str:
    """Format a value for a manager: thousands separators, percentages, dates; '—' for null."""
    if value is None:
        return "—"
    if kind == "int":
        return f"{round(float(value)):,}"
    if kind == "dec":
        return f"{float(value):,.1f}"
    if kind == "usd":
        return f"${float(value):,.2f}"
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    if kind == "pp":
        return f"{float(value) * 100:+.1f} pp"
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "date":
        return str(value)[:10]
    return str(value)


def _rate(num: Any, den: Any) -> float | None:
    return float(num) / float(den) if num is not None and den else None


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _weekday(day: str) -> str:
    # not strftime("%a"): that follows the host's locale, and the report must not
    return _WEEKDAYS[date.fromisoformat(day).weekday()]


def _window_start(last_day: str) -> str:
    return (date.fromisoformat(last_day) - timedelta(days=WINDOW_DAYS - 1)).isoformat()


# --- per-scope queries --------------------------------------------------------------------------
def usage_daily(reader: MartReader, scope: ScopeKey) -> Rows:
    """Daily rows of one scope, oldest first."""
    return reader.scope_rows(
        USAGE_DAILY,
        """day, daily_active_users, weekly_active_users, monthly_active_users,
                   user_initiated_interactions, code_generations, code_acceptances,
                   loc_suggested_to_add, loc_added, acceptance_rate, source_api""",
        scope,
        "day",
    )


def acceptance_weekly(reader: MartReader, scope: ScopeKey) -> Rows:
    """Weekly acceptance rows of one scope with the acceptance rate by lines, oldest week first.

    The rate by lines is the mart's ``completion_loc_acceptance_rate``: code completion lines
    accepted / suggested, summed over the week (0-1; null without suggested completion lines).
    All lines added over lines suggested (``loc_added_per_suggested_line``) is not a rate: agent
    edits add lines that were never suggested. A warehouse built before the column existed gives
    null (the chart draws no line for it).
    """
    loc_rate = (
        "completion_loc_acceptance_rate"
        if "completion_loc_acceptance_rate" in reader.columns.get(ACCEPTANCE_WEEKLY, [])
        else "cast(null as double) as completion_loc_acceptance_rate"
    )
    return reader.scope_rows(
        ACCEPTANCE_WEEKLY,
        f"""week_start, days_with_data, code_generations, code_acceptances, acceptance_rate,
                   loc_suggested_to_add, loc_added, {loc_rate},
                   active_users, acceptance_rate_change""",
        scope,
        "week_start",
    )


def dimension_totals(reader: MartReader, scope: ScopeKey, dimension: str) -> Rows:
    """Per dimension value over the scope's last 28 days in the by-dimension mart, top values."""
    return reader.query(
        BY_DIMENSION_DAILY,
        recent_days_sql(BY_DIMENSION_DAILY, " and dimension = ?")
        + f"""
            select dimension_value,
                   sum(code_generations) as code_generations,
                   sum(code_acceptances) as code_acceptances,
                   sum(code_acceptances) / nullif(sum(code_generations), 0) as acceptance_rate,
                   sum(user_initiated_interactions) as user_initiated_interactions,
                   min(day) as first_day, max(last_day) as last_day
            from recent
            group by dimension_value
            order by code_generations desc nulls last, user_initiated_interactions desc nulls last,
                     dimension_value
            limit {TOP_DIMENSION_VALUES}""",
        [*scope.params, dimension],
        empty=f"No {DIMENSION_TITLES[dimension]} breakdown for {scope.title} "
        f"in {SCHEMA}.{BY_DIMENSION_DAILY}.",
    )


# Member-summary columns shown when the mart has them (beyond the contract's).
OPTIONAL_MEMBER_COLUMNS = ("top_language", "top_ide")


def top_members(reader: MartReader, scope: ScopeKey) -> Rows:
    """The most active members of the scope by accepted suggestions."""
    extra = "".join(f", {c}" for c in OPTIONAL_MEMBER_COLUMNS if c in reader.columns.get(MEMBER_SUMMARY, []))
    return reader.query(
        MEMBER_SUMMARY,
        f"""select user_login, active_days, first_active_day, last_active_day, code_generations,
                   code_acceptances, acceptance_rate, loc_added, agent_days, chat_days, has_seat{extra}
            from {SCHEMA}.{MEMBER_SUMMARY}
            where scope_type = ? and scope_name = ?
            order by code_acceptances desc nulls last, active_days desc nulls last, user_login
            limit {TOP_MEMBERS}""",
        scope.params,
        scope=scope,
    )


def team_summary(reader: MartReader, scope: ScopeKey) -> Rows:
    """Teams of the scope over its last four ISO weeks of data, most active members first.

    Member counts are the latest week's distinct counts (never summed over weeks); activity
    counters are summed over the four weeks and the rate is the sum over the sum.
    """
    return reader.query(
        TEAM_USAGE_WEEKLY,
        recent_teams_sql(
            TEAM_USAGE_WEEKLY,
            "active_members",
            """sum(code_generations) as code_generations,
                   sum(code_acceptances) as code_acceptances,
                   sum(code_acceptances) / nullif(sum(code_generations), 0) as acceptance_rate,
                   sum(user_initiated_interactions) as user_initiated_interactions,
                   sum(loc_added) as loc_added""",
            "active_members desc nulls last, code_acceptances desc nulls last, team_slug",
            TOP_TEAMS,
        ),
        scope.params,
        scope=scope,
    )


def seat_utilisation(reader: MartReader, scope: ScopeKey) -> Rows:
    """Seats held and seat holders active per ISO week, oldest first."""
    return reader.scope_rows(
        SEAT_UTILISATION_WEEKLY,
        "week_start, seats, active_seat_holders, seat_utilisation_rate",
        scope,
        "week_start",
    )


def _user_seats(reader: MartReader) -> str:
    """SQL condition keeping the seats held by users.

    Seat rows whose assignee is null or Team-shaped (``assignee_type`` 'none' or 'team') are no
    member, inactive or never-used seat; a seats mart without the column holds user seats only.
    """
    return "assignee_type = 'user'" if "assignee_type" in reader.columns.get(SEATS, []) else "true"


def seats(reader: MartReader, scope: ScopeKey, which: str) -> Rows:
    """Seats of the scope that are inactive (``which='inactive'``) or never used (``'never'``)."""
    flag = "is_inactive_seat" if which == "inactive" else "is_never_used"
    label = "inactive" if which == "inactive" else "never-used"
    return reader.query(
        SEATS,
        f"""select user_login, plan_type, last_activity_at, days_since_last_activity,
                   pending_cancellation_date
            from {SCHEMA}.{SEATS}
            where scope_type = ? and scope_name = ? and {flag} and {_user_seats(reader)}
            order by days_since_last_activity desc nulls first, user_login""",
        scope.params,
        empty=f"No {label} seats for {scope.title} in {SCHEMA}.{SEATS}.",
    )


def seat_counts(reader: MartReader, scope: ScopeKey | None = None) -> Rows:
    """Seats held by users per scope (all scopes when ``scope`` is None), inactive and never used."""
    where, params = ("and scope_type = ? and scope_name = ?", scope.params) if scope else ("", [])
    return reader.query(
        SEATS,
        f"""select scope_type, scope_name, count(*) as seats,
                   count(*) filter (where is_inactive_seat) as inactive_seats,
                   count(*) filter (where is_never_used) as never_used_seats
            from {SCHEMA}.{SEATS}
            where {_user_seats(reader)} {where}
            group by all order by scope_type, scope_name""",
        params,
    )


def data_health(reader: MartReader, scope: ScopeKey | None = None) -> Rows:
    """Rows of the data-health mart (all columns), for one scope or all."""
    where, params = ("where scope_type = ? and scope_name = ?", scope.params) if scope else ("", [])
    return reader.query(
        DATA_HEALTH,
        f"select * from {SCHEMA}.{DATA_HEALTH} {where} order by all",
        params,
        scope=scope,
    )


def anomalies(reader: MartReader, scope: ScopeKey | None = None) -> Rows:
    """Odd values GitHub supplied (the data-quality mart), newest day first, for one scope or all."""
    where, params = ("where scope_type = ? and scope_name = ?", scope.params) if scope else ("", [])
    return reader.query(
        DATA_QUALITY,
        f"""select scope_type, scope_name, day, check_name, source_report, subject, observed_values, finding
            from {SCHEMA}.{DATA_QUALITY} {where}
            order by day desc, scope_type, scope_name, check_name, subject nulls first
            limit {MAX_ANOMALY_ROWS}""",
        params,
        empty=(
            f"No odd values from GitHub for {scope.title}."
            if scope
            else "No odd values from GitHub in any scope."
        ),
    )


def _all_loaded(scope: ScopeKey) -> str:
    return f"Every report day of {scope.title} is loaded."


def partition_problems(reader: MartReader, scope: ScopeKey) -> Rows:
    """Partitions of the scope whose latest state is not 'loaded' (gaps and failures)."""
    cols = reader.columns.get(PARTITION_STATUS, [])
    if reader.has(PARTITION_STATUS) and "status" not in cols:
        return Rows(note=f"No data: {SCHEMA}.{PARTITION_STATUS} has no status column.")
    # 'unavailable': days of a report GitHub does not offer for the scope (listed in data health)
    return reader.query(
        PARTITION_STATUS,
        f"""select * from {SCHEMA}.{PARTITION_STATUS}
            where scope_type = ? and scope_name = ? and coalesce(status, '') not in ('loaded', 'unavailable')
            order by all""",
        scope.params,
        empty=_all_loaded(scope),
    )


# --- views --------------------------------------------------------------------------------------
def generic_columns(rows: list[dict[str, Any]], skip: tuple[str, ...] = ()) -> list[Column]:
    """Columns for a table whose shape is read from the mart (health, partition status)."""
    if not rows:
        return []
    cols = []
    for key in rows[0]:
        if key in skip or key.startswith("_"):
            continue
        sample = next((r[key] for r in rows if r[key] is not None), None)
        kind = "text"
        if isinstance(sample, bool):
            kind = "bool"
        elif isinstance(sample, int):
            kind = "int"
        elif key.endswith("_rate") and isinstance(sample, float):
            kind = "pct"
        words = [_ACRONYMS.get(w, w) for w in key.split("_")]
        label = " ".join(words)
        cols.append(Column(key, label[0].upper() + label[1:], kind))
    return cols


def line_panel(panel: Panel, result: Rows, x: str, series: list[tuple[str, str]], **chart: Any) -> Panel:
    """``panel`` with a line chart of ``result``'s columns, or with its note when it has no rows.

    Args:
        panel: the panel to fill.
        result: the query's rows (or note).
        x: the column of x values.
        series: ``(name, column)`` per line.
        **chart: the other arguments of :func:`charts.rows_line_chart` (``y_title`` ...).

    Returns:
        ``panel``.
    """
    if result:
        panel.figure = charts.rows_line_chart(result.rows, x, series, **chart)
    else:
        panel.note = result.note
    return panel


def scope_section(reader: MartReader, scope: ScopeKey) -> ScopeSection:
    """Build the KPI cards and panels of one organization or enterprise."""
    daily = usage_daily(reader, scope)
    weekly = acceptance_weekly(reader, scope)
    seat_rows = seat_counts(reader, scope)
    kpis, kpi_note = scope_kpis(daily, weekly, seat_rows)
    sid = scope.slug
    panels: list[Panel] = []

    active = Panel(
        f"chart-{sid}-active-users",
        "Active users over time",
        USAGE_DAILY,
        "Daily, weekly (7-day) and monthly (28-day) active users, per report day (UTC)",
        wide=True,
    )
    panels.append(
        line_panel(
            active,
            daily,
            "day",
            [
                ("Daily active users", "daily_active_users"),
                ("Weekly active users", "weekly_active_users"),
                ("Monthly active users", "monthly_active_users"),
            ],
            y_title="Users",
        )
    )

    trend = Panel(
        f"chart-{sid}-acceptance-weekly",
        "Weekly acceptance rate",
        ACCEPTANCE_WEEKLY,
        "Accepted ÷ suggested per ISO week (Monday start), by suggestions and by code completion "
        "lines (agent edits, which add lines never suggested, are left out)",
    )
    volume = Panel(
        f"chart-{sid}-suggestions-weekly",
        "Weekly suggestions and acceptances",
        ACCEPTANCE_WEEKLY,
        "Code suggestions shown and accepted, per ISO week (Monday start)",
    )
    line_panel(
        trend,
        weekly,
        "week_start",
        [("By suggestions", "acceptance_rate"), ("By completion lines", "completion_loc_acceptance_rate")],
        y_title="Acceptance rate",
        y_percent=True,
        x_title=charts.WEEK_AXIS,
    )
    line_panel(
        volume,
        weekly,
        "week_start",
        [("Suggestions", "code_generations"), ("Acceptances", "code_acceptances")],
        y_title="Suggestions per week",
        x_title=charts.WEEK_AXIS,
    )
    panels += [trend, volume]

    for dimension in DIMENSIONS:
        title = DIMENSION_TITLES[dimension]
        result = dimension_totals(reader, scope, dimension)
        panel = Panel(
            f"chart-{sid}-by-{dimension}",
            f"By {title}",
            BY_DIMENSION_DAILY,
            f"Suggestions and acceptances per {title}, last {WINDOW_DAYS} days of data"
            f" (top {TOP_DIMENSION_VALUES})",
        )
        if result:
            rows = result.rows
            last = max(r["last_day"] for r in rows)
            panel.subtitle += f": {_window_start(last)} to {last}"
            series = [
                ("Suggestions", [r["code_generations"] for r in rows]),
                ("Acceptances", [r["code_acceptances"] for r in rows]),
            ]
            # Chat and agent use shows in prompts, not suggestions: add them where there are any.
            if any(r["user_initiated_interactions"] for r in rows):
                series.append(("Prompts", [r["user_initiated_interactions"] for r in rows]))
                panel.subtitle = panel.subtitle.replace(
                    "Suggestions and acceptances", "Suggestions, acceptances and prompts"
                )
            panel.figure = charts.hbar_chart(
                [str(r["dimension_value"]) for r in rows],
                series,
                x_title="Count in the window",
                hover_rates=[r["acceptance_rate"] for r in rows],
            )
        else:
            panel.note = result.note
        panels.append(panel)

    teams = team_summary(reader, scope)
    team_window = f": weeks of {teams.rows[0]['first_week']} to {teams.rows[0]['last_week']}" if teams else ""
    panels.append(
        Panel(
            f"table-{sid}-teams",
            "Teams",
            TEAM_USAGE_WEEKLY,
            f"Members and active members in the latest week; activity over the last 4 ISO weeks{team_window}"
            f" (top {TOP_TEAMS} by active members)",
            columns=[
                Column("team_slug", "Team"),
                Column("team_members", "Members", "int"),
                Column("active_members", "Active members", "int"),
                Column("code_generations", "Suggestions", "int"),
                Column("code_acceptances", "Accepted", "int"),
                Column("acceptance_rate", "Acceptance rate", "pct"),
                Column("user_initiated_interactions", "Prompts", "int"),
                Column("loc_added", "Lines added", "int"),
            ],
            rows=teams.rows,
            note=teams.note,
            wide=True,
        )
    )

    members = top_members(reader, scope)
    panels.append(
        Panel(
            f"table-{sid}-top-members",
            f"Top {TOP_MEMBERS} members",
            MEMBER_SUMMARY,
            "Ranked by accepted suggestions over the whole history",
            columns=[
                Column("user_login", "Member"),
                Column("active_days", "Active days", "int"),
                Column("last_active_day", "Last active", "date"),
                Column("code_generations", "Suggestions", "int"),
                Column("code_acceptances", "Accepted", "int"),
                Column("acceptance_rate", "Acceptance rate", "pct"),
                Column("loc_added", "Lines added", "int"),
                Column("chat_days", "Chat days", "int"),
                Column("agent_days", "Agent days", "int"),
                *[
                    Column(c, c.replace("_", " ").capitalize().replace("ide", "IDE"))
                    for c in OPTIONAL_MEMBER_COLUMNS
                    if members.rows and c in members.rows[0]
                ],
            ],
            rows=members.rows,
            note=members.note,
            wide=True,
        )
    )
    # pull requests, code review and cloud agent users, repositories (imported here: that module
    # builds on this one's Panel and Column)
    from copilot_warehouse.serve.report import activity_panels

    panels += activity_panels.scope_panels(reader, scope)
    # Copilot CLI and desktop app, AI credits and their estimated cost
    from copilot_warehouse.serve.report import cli_cost_panels

    panels += cli_cost_panels.scope_panels(reader, scope)

    utilisation = seat_utilisation(reader, scope)
    seat_use = Panel(
        f"chart-{sid}-seat-utilisation",
        "Seat use per week",
        SEAT_UTILISATION_WEEKLY,
        "Copilot seats held and seat holders active at least once in the ISO week (Monday start)",
        wide=True,
    )
    line_panel(
        seat_use,
        utilisation,
        "week_start",
        [("Seats", "seats"), ("Active seat holders", "active_seat_holders")],
        y_title="Seats",
        x_title=charts.WEEK_AXIS,
    )
    panels.append(seat_use)

    seat_columns = [
        Column("user_login", "Member"),
        Column("plan_type", "Plan"),
        Column("last_activity_at", "Last activity (UTC)"),
        Column("days_since_last_activity", "Days since activity", "int"),
        Column("pending_cancellation_date", "Pending cancellation", "date"),
    ]
    for which, title, subtitle in (
        ("inactive", "Inactive seats", "Seats with no active day in the last 28 days of data"),
        ("never", "Never-used seats", "Seats whose holder has never used Copilot"),
    ):
        result = seats(reader, scope, which)
        panels.append(
            Panel(
                f"table-{sid}-{which}-seats",
                f"{title} ({len(result.rows)})",
                SEATS,
                subtitle,
                columns=seat_columns,
                rows=result.rows,
                note=result.note,
            )
        )

    health = data_health(reader, scope)
    panels.append(
        Panel(
            f"table-{sid}-data-health",
            "Data health",
            DATA_HEALTH,
            "Latest report day, missing days, failed loads, quarantined records, reports GitHub does not "
            "offer for this scope (their days are never counted as failed or missing), odd values GitHub "
            "supplied, and the latest seats listing beside GitHub's total_seats",
            columns=generic_columns(health.rows, skip=("scope_type", "scope_name")),
            rows=health.rows,
            note=health.note,
            wide=True,
        )
    )
    panels.append(anomaly_panel(reader, scope))
    problems = partition_problems(reader, scope)
    all_loaded = _all_loaded(scope)
    panels.append(
        Panel(
            f"table-{sid}-partitions",
            f"Partitions not loaded ({len(problems.rows)})",
            PARTITION_STATUS,
            "Report days without a loaded report (no report yet, failed), latest state",
            columns=generic_columns(problems.rows, skip=("scope_type", "scope_name")),
            rows=problems.rows,
            note=problems.note,
            wide=True,
            note_ok=reader.has(PARTITION_STATUS) and problems.note == all_loaded,
        )
    )
    return ScopeSection(scope, kpis, kpi_note, panels)


ANOMALY_COLUMNS = [
    Column("day", "Day", "date"),
    Column("check_name", "Check"),
    Column("source_report", "Report"),
    Column("subject", "Subject"),
    Column("observed_values", "Values GitHub sent"),
    Column("finding", "Finding"),
]


def anomaly_panel(reader: MartReader, scope: ScopeKey | None = None) -> Panel:
    """The anomaly rows of one scope (or of all, with a scope column) as a table.

    A mart without rows is good news (GitHub's values agree with each other); a missing mart is
    the usual "no data" note.
    """
    found = anomalies(reader, scope)
    sid = scope.slug if scope else "overview"
    columns = ANOMALY_COLUMNS if scope else [Column("scope_name", "Scope"), *ANOMALY_COLUMNS]
    return Panel(
        f"table-{sid}-anomalies",
        f"Odd values from GitHub ({len(found.rows)}{'+' if len(found.rows) >= MAX_ANOMALY_ROWS else ''})",
        DATA_QUALITY,
        "Values GitHub supplied that contradict each other or a rule (e.g. weekly active users above "
        "monthly), newest first. They stay in the marts as sent and never stop a build: read the figures "
        "of these days with care",
        columns=columns,
        rows=found.rows,
        note=found.note,
        wide=True,
        note_ok=reader.has(DATA_QUALITY) and not found.rows and "could not be read" not in (found.note or ""),
    )


def scope_kpis(daily: Rows, weekly: Rows, seat_rows: Rows) -> tuple[list[Kpi], str | None]:
    """Headline numbers of one scope from its daily, weekly and seat rows."""
    kpis: list[Kpi] = []
    notes = []
    if daily:
        last = daily.rows[-1]
        start = _window_start(last["day"])
        window = [r for r in daily.rows if r["day"] >= start]
        gens = sum(r["code_generations"] or 0 for r in window)
        accs = sum(r["code_acceptances"] or 0 for r in window)
        daus = [r["daily_active_users"] for r in window if r["daily_active_users"] is not None]
        avg_dau = sum(daus) / len(daus) if daus else None
        kpis += [
            Kpi(
                "Daily active users",
                fmt(last["daily_active_users"], "int"),
                f"on {_weekday(last['day'])} {last['day']}; 28-day average {fmt(avg_dau, 'dec')}",
            ),
            Kpi("Weekly active users", fmt(last["weekly_active_users"], "int"), f"7 days to {last['day']}"),
            Kpi(
                "Monthly active users", fmt(last["monthly_active_users"], "int"), f"28 days to {last['day']}"
            ),
            Kpi("Acceptance rate", fmt(_rate(accs, gens), "pct"), f"{start} to {last['day']}"),
            Kpi(
                "Lines of code added",
                fmt(sum(r["loc_added"] or 0 for r in window), "int"),
                f"{start} to {last['day']}",
            ),
        ]
    else:
        notes.append(daily.note)
    if weekly:
        last_week = weekly.rows[-1]
        change = last_week["acceptance_rate_change"]
        kpis.append(
            Kpi(
                "Acceptance rate, latest week",
                fmt(last_week["acceptance_rate"], "pct"),
                f"week of {last_week['week_start']}"
                + (f", {fmt(change, 'pp')} vs previous week" if change is not None else ""),
                tone="" if change is None else ("good" if change >= 0 else "bad"),
            )
        )
    if seat_rows:
        s = seat_rows.rows[0]
        kpis += [
            Kpi("Copilot seats", fmt(s["seats"], "int"), "assigned licences"),
            Kpi(
                "Inactive seats",
                fmt(s["inactive_seats"], "int"),
                f"{fmt(_rate(s['inactive_seats'], s['seats']), 'pct')} of seats; "
                f"{fmt(s['never_used_seats'], 'int')} never used",
                tone="bad" if s["inactive_seats"] else "",
            ),
        ]
    elif seat_rows.note and "not in the warehouse" in seat_rows.note:
        notes.append(seat_rows.note)
    return kpis, " ".join(n for n in notes if n) or None


# --- overview across scopes ---------------------------------------------------------------------
@dataclass
class Overview:
    """The first section: headline numbers and comparisons across every scope."""

    kpis: list[Kpi]
    panels: list[Panel]
    scope_rows: list[dict[str, Any]]


def scope_summary(reader: MartReader) -> Rows:
    """One row per scope: latest day, users on that day and the last 28 days' totals."""
    return reader.query(
        USAGE_DAILY,
        f"""with latest as (
                select scope_type, scope_name, max(day) as last_day
                from {SCHEMA}.{USAGE_DAILY} group by all
            ),
            usage as (
                select u.*, l.last_day, u.day > l.last_day - interval {WINDOW_DAYS} day as in_window
                from {SCHEMA}.{USAGE_DAILY} as u
                inner join latest as l using (scope_type, scope_name)
            )
            select scope_type, scope_name, last_day,
                   max(daily_active_users) filter (where day = last_day) as daily_active_users,
                   max(weekly_active_users) filter (where day = last_day) as weekly_active_users,
                   max(monthly_active_users) filter (where day = last_day) as monthly_active_users,
                   sum(code_generations) filter (where in_window) as code_generations,
                   sum(code_acceptances) filter (where in_window) as code_acceptances,
                   sum(code_acceptances) filter (where in_window)
                     / nullif(sum(code_generations) filter (where in_window), 0) as acceptance_rate,
                   sum(loc_added) filter (where in_window) as loc_added
            from usage
            group by all
            order by scope_type desc, scope_name""",
    )


@dataclass
class UsageTotals:
    """Counters over "all organizations" for the overview, and how they were counted."""

    generations: int
    acceptances: int
    loc_added: int
    detail: str


def _enterprises_label(rows: list[dict[str, Any]]) -> str:
    names = sorted({str(r["scope_name"]) for r in rows})
    return f"enterprise {names[0]}" if len(names) == 1 else f"all {len(names)} enterprises"


def distinct_member_usage(reader: MartReader, last_day: str) -> Rows:
    """Organizations' per-member counters over the 28 days to ``last_day``, each person-day once.

    A member of two organizations appears in both organizations' per-user reports with the same
    activity; the larger of their records counts once (DESIGN.md §3: never add orgs up).
    """
    return reader.query(
        MEMBER_DAILY,
        f"""with person_days as (
                select user_id, day,
                       max(code_generations) as code_generations,
                       max(code_acceptances) as code_acceptances,
                       max(loc_added) as loc_added
                from {SCHEMA}.{MEMBER_DAILY}
                where scope_type = 'organization'
                  and day > cast(? as date) - interval {WINDOW_DAYS} day and day <= cast(? as date)
                group by user_id, day
            )
            select count(*) as person_days, sum(code_generations) as code_generations,
                   sum(code_acceptances) as code_acceptances, sum(loc_added) as loc_added
            from person_days""",
        [last_day, last_day],
    )


def all_organizations_usage(reader: MartReader, summary: list[dict[str, Any]]) -> UsageTotals:
    """The overview's "all organizations" counters, never a sum that counts a person twice.

    With an enterprise in the warehouse they are the enterprise's own (its reports count a member
    of two organizations once); without one, they are recomputed over distinct members from the
    per-member mart; only when that mart has no rows are the organizations summed, and the label
    then says a person counts once per organization.

    Args:
        reader: the mart reader.
        summary: rows of :func:`scope_summary` (each scope's last 28 days of data).

    Returns:
        Generations, acceptances, lines added and a label for the KPI cards.
    """
    window = f"last {WINDOW_DAYS} days"
    ents = [r for r in summary if r["scope_type"] == "enterprise"]
    orgs = [r for r in summary if r["scope_type"] == "organization"]

    def summed(rows: list[dict[str, Any]], detail: str) -> UsageTotals:
        return UsageTotals(
            sum(r["code_generations"] or 0 for r in rows),
            sum(r["code_acceptances"] or 0 for r in rows),
            sum(r["loc_added"] or 0 for r in rows),
            detail,
        )

    if ents:
        return summed(ents, f"{_enterprises_label(ents)} (every organization, a person once), {window}")
    if len(orgs) == 1:
        return summed(orgs, f"organization {orgs[0]['scope_name']}, {window}")
    last_day = max(r["last_day"] for r in orgs)
    members = distinct_member_usage(reader, last_day)
    if members and members.rows[0]["person_days"]:
        m = members.rows[0]
        return UsageTotals(
            int(m["code_generations"] or 0),
            int(m["code_acceptances"] or 0),
            int(m["loc_added"] or 0),
            f"all organizations, each person once (per-member reports), "
            f"{_window_start(last_day)} to {last_day}",
        )
    return summed(
        orgs,
        f"sum over organizations, {window}: a person in two organizations counts once per organization",
    )


def overview(reader: MartReader, scopes: list[ScopeKey]) -> Overview:
    """Build the overview: KPI cards, a table of scopes, comparison charts and data health."""
    summary = scope_summary(reader)
    seat_rows = seat_counts(reader)
    seats_by_scope = {(r["scope_type"], r["scope_name"]): r for r in seat_rows.rows}
    usage_by_scope = {(r["scope_type"], r["scope_name"]): r for r in summary.rows}
    scope_rows = []
    for s in scopes:
        row = {"scope": s.title, "slug": s.slug, "scope_type": s.scope_type, "scope_name": s.scope_name}
        row.update(usage_by_scope.get((s.scope_type, s.scope_name), {}))
        row.update(seats_by_scope.get((s.scope_type, s.scope_name), {}))
        scope_rows.append(row)

    kpis = [Kpi("Organizations", fmt(sum(s.scope_type == "organization" for s in scopes), "int"), "")]
    ents = sum(s.scope_type == "enterprise" for s in scopes)
    if ents:
        kpis[0].detail = f"plus {ents} enterprise{'s' if ents > 1 else ''}"
    if summary:
        last_day = max(r["last_day"] for r in summary.rows)
        kpis.append(Kpi("Latest report day", last_day, "UTC; GitHub publishes 2–3 days late"))
        totals = all_organizations_usage(reader, summary.rows)
        kpis.append(
            Kpi("Acceptance rate", fmt(_rate(totals.acceptances, totals.generations), "pct"), totals.detail)
        )
        kpis.append(Kpi("Lines of code added", fmt(totals.loc_added, "int"), totals.detail))
    if seat_rows:
        # An enterprise's listing holds every seat of its organizations once per member.
        ents = [r for r in seat_rows.rows if r["scope_type"] == "enterprise"]
        pool = ents or seat_rows.rows
        total = sum(r["seats"] for r in pool)
        inactive = sum(r["inactive_seats"] for r in pool)
        where = (
            _enterprises_label(ents)
            if ents
            else "across organizations"
            + (" (summed: a person with seats in two holds two)" if len(pool) > 1 else "")
        )
        kpis += [
            Kpi("Copilot seats", fmt(total, "int"), where),
            Kpi(
                "Inactive seats",
                fmt(inactive, "int"),
                f"{fmt(_rate(inactive, total), 'pct')} of seats",
                tone="bad" if inactive else "",
            ),
            Kpi("Never-used seats", fmt(sum(r["never_used_seats"] for r in pool), "int"), "never active"),
        ]

    panels = []
    table = Panel(
        "table-overview-scopes",
        "At a glance",
        f"{USAGE_DAILY}, {SEATS}",
        f"Users on each scope's latest report day; totals over its last {WINDOW_DAYS} days",
        columns=[
            Column("scope", "Scope", "link"),
            Column("last_day", "Latest day", "date"),
            Column("daily_active_users", "Daily active", "int"),
            Column("monthly_active_users", "Monthly active", "int"),
            Column("acceptance_rate", "Acceptance rate", "pct"),
            Column("loc_added", "Lines added", "int"),
            Column("seats", "Seats", "int"),
            Column("inactive_seats", "Inactive seats", "int"),
            Column("never_used_seats", "Never used", "int"),
        ],
        rows=scope_rows if summary or seat_rows else [],
        note=None if summary or seat_rows else summary.note,
        wide=True,
    )
    panels.append(table)

    dau = Panel(
        "chart-overview-daily-active-users",
        "Daily active users by scope",
        USAGE_DAILY,
        "Distinct active users per report day (UTC); an enterprise counts each person once",
        wide=True,
    )
    panels.append(
        _scopes_line_panel(dau, reader, scopes, USAGE_DAILY, "day", "daily_active_users", y_title="Users")
    )

    rate = Panel(
        "chart-overview-acceptance-weekly",
        "Weekly acceptance rate by scope",
        ACCEPTANCE_WEEKLY,
        "Accepted ÷ suggested, per ISO week (Monday start)",
        wide=True,
    )
    panels.append(
        _scopes_line_panel(
            rate,
            reader,
            scopes,
            ACCEPTANCE_WEEKLY,
            "week_start",
            "acceptance_rate",
            y_title="Acceptance rate",
            y_percent=True,
            x_title=charts.WEEK_AXIS,
        )
    )

    health = data_health(reader)
    panels.append(
        Panel(
            "table-overview-data-health",
            "Data health",
            DATA_HEALTH,
            "Per scope: latest report day, missing days, failed loads, quarantined records, reports GitHub "
            "does not offer (never counted as failed or missing), odd values GitHub supplied, latest seats "
            "listing",
            columns=generic_columns(health.rows),
            rows=health.rows,
            note=health.note,
            wide=True,
        )
    )
    panels.append(anomaly_panel(reader))
    return Overview(kpis, panels, scope_rows)


def _scopes_line_panel(
    panel: Panel, reader: MartReader, scopes: list[ScopeKey], mart: str, x: str, y: str, **chart: Any
) -> Panel:
    """``panel`` with one line per scope of ``mart``'s column ``y`` over ``x``, or the note."""
    result = reader.query(
        mart,
        f"""select scope_type, scope_name, {x}, {y} from {SCHEMA}.{mart}
            order by scope_type, scope_name, {x}""",
    )
    if result:
        panel.figure = charts.multi_line_chart(_lines(scopes, result.rows, x, y), **chart)
    else:
        panel.note = result.note
    return panel


def _lines(
    scopes: list[ScopeKey], rows: list[dict[str, Any]], x: str, y: str
) -> list[tuple[str, list[Any], list[Any]]]:
    lines = []
    for s in scopes:
        mine = [r for r in rows if (r["scope_type"], r["scope_name"]) == (s.scope_type, s.scope_name)]
        if mine:
            lines.append((s.scope_name, [r[x] for r in mine], [r[y] for r in mine]))
    return lines
