"""The three usage questions for any scope, optional team and inclusive date range.

Totals, the weekly acceptance trend and the per-member breakdown, computed from the marts on
demand (the marts hold them only at fixed grains: day, ISO week, month)::

    from copilot_warehouse.serve import questions

    questions.totals("organization:octo-demo", "2026-09-01", "2026-09-30")
    questions.weekly_trend("organization:octo-demo", "2026-09-01", "2026-09-30", team="platform")
    questions.member_breakdown(("enterprise", "octo-enterprise"), "2026-09-01", "2026-09-30")

and on the command line ``python -m copilot_warehouse usage --scope organization:octo-demo
--start-day 2026-09-01 --end-day 2026-09-30 [--team SLUG] [--format table|csv|json]``.

**Source.** Every figure comes from ``marts.fct_copilot_member_daily`` (one row per scope, member
and day of GitHub's per-user report), and for a team from ``marts.fct_copilot_team_membership_daily``
joined to it. One source for every answer means the member rows add up to the totals and the
weekly rows, with or without a team (a team exists only at member level). GitHub's scope-level
report (``marts.fct_copilot_usage_daily``) can differ from the sum of its member records
(activity GitHub leaves unattributed, members removed from a restated day) and is not used here:
query that mart for the scope report's own figures.

**Definitions.**

- ``code_generations`` are the suggestions shown, ``code_acceptances`` the suggestions accepted;
  sums of the member-day counters over the days in the range.
- ``acceptance_rate = code_acceptances / code_generations``, a ratio of sums over the row; null
  (NaN) when there were no generations. GitHub's own counters can make it exceed 1.
- ``active_users`` are distinct members with at least one active day (the warehouse's active
  rule: any activity counter above 0 or any ``used_*`` flag) in the row's days, never a sum of
  daily counts. ``members`` are distinct members with a record (or, for a team, a membership
  day) in the row's days, active or not.
- For a team, a member's activity counts only on the days the member was in the team (as in
  the team marts); team days without a usage record count as inactive days with zero activity.
  GitHub's team report leaves out teams with fewer than five seated Copilot users.
- Days are UTC report days; the range is inclusive.

An empty range (no data between the days) gives zero rows from :func:`weekly_trend` and
:func:`member_breakdown`, and one row of zero counts with a null rate from :func:`totals`.
Every wrong input raises :class:`QuestionError` naming the bad value and what is accepted.
The warehouse is opened read-only, so the questions can be asked while the pipeline runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from copilot_warehouse import config, warehouse

MEMBER_DAILY = "marts.fct_copilot_member_daily"
TEAM_MEMBERSHIP = "marts.fct_copilot_team_membership_daily"
USAGE_DAILY = "marts.fct_copilot_usage_daily"
SCOPE_FORMAT = "'organization:<slug>' or 'enterprise:<slug>'"
FORMATS = ("table", "csv", "json")
ANSWERS = ("all", "totals", "trend", "members")
_SHOWN_CHOICES = 25  # at most this many valid choices are named in an error message

TOTALS_COLUMNS = [
    "scope_type", "scope_name", "team_slug", "start_day", "end_day", "days_in_range", "days_with_data",
    "members", "active_users", "code_generations", "code_acceptances", "acceptance_rate",
    "user_initiated_interactions", "loc_suggested_to_add", "loc_added", "loc_deleted",
]  # fmt: skip
TREND_COLUMNS = [
    "week_start", "week_end", "days_in_range", "is_partial_week", "days_with_data", "members",
    "active_users", "code_generations", "code_acceptances", "acceptance_rate",
    "user_initiated_interactions", "loc_suggested_to_add", "loc_added", "loc_deleted",
]  # fmt: skip
MEMBER_COLUMNS = [
    "user_id", "user_login", "active_days", "days_with_data", "last_active_day", "code_generations",
    "code_acceptances", "acceptance_rate", "user_initiated_interactions", "loc_suggested_to_add",
    "loc_added", "loc_deleted",
]  # fmt: skip
_DATE_COLUMNS = ("start_day", "end_day", "week_start", "week_end", "last_active_day")


class QuestionError(ValueError):
    """A question cannot be answered as asked: unknown scope or team, a malformed or reversed
    day, or no warehouse/marts to read. The message names the bad value and what is accepted."""


@dataclass(frozen=True)
class Answers:
    """The three answers for one question (see :func:`ask`)."""

    totals: pd.DataFrame
    weekly_trend: pd.DataFrame
    members: pd.DataFrame


@dataclass(frozen=True)
class _Question:
    scope_type: str
    scope_name: str
    team_slug: str | None
    team_ids: tuple[int, ...]
    start_day: date
    end_day: date


# --- input ----------------------------------------------------------------------------------
def _parse_day(value: object, name: str) -> date:
    try:
        return config.parse_day(value, name)
    except config.ConfigError as exc:
        raise QuestionError(str(exc)) from None


def _parse_range(start_day: object, end_day: object) -> tuple[date, date]:
    start, end = _parse_day(start_day, "start_day"), _parse_day(end_day, "end_day")
    if end < start:
        raise QuestionError(f"end_day {end} is before start_day {start}: give start_day <= end_day")
    return start, end


def _parse_scope(scope: object) -> tuple[str, str]:
    if isinstance(scope, config.Scope):
        return scope.type, scope.name
    if isinstance(scope, str) and scope.count(":") == 1:
        kind, name = (part.strip() for part in scope.split(":"))
    elif isinstance(scope, Sequence) and not isinstance(scope, str) and len(scope) == 2:
        kind, name = scope
    else:
        raise QuestionError(f"scope {scope!r} is not {SCOPE_FORMAT} nor a (scope_type, scope_name) pair")
    if kind not in (config.ORGANIZATION, config.ENTERPRISE) or not isinstance(name, str) or not name:
        raise QuestionError(f"scope {scope!r} is not {SCOPE_FORMAT} nor a (scope_type, scope_name) pair")
    return kind, name


def _choices(values: Sequence[str]) -> str:
    if not values:
        return "none"
    shown = ", ".join(values[:_SHOWN_CHOICES])
    return shown + (f" and {len(values) - _SHOWN_CHOICES} more" if len(values) > _SHOWN_CHOICES else "")


def _open(path: str | Path | None):
    path = Path(path or config.warehouse_path())
    if not path.is_file():
        raise QuestionError(
            f"the warehouse {path} does not exist: run `make run` (or the pipeline) first, give "
            f"--warehouse/warehouse=, or point {config.ENV_WAREHOUSE} at your DuckDB file"
        )
    con = warehouse.connect(path, read_only=True)
    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    missing = [t for t in (MEMBER_DAILY, TEAM_MEMBERSHIP) if t not in tables]
    if missing:
        con.close()
        raise QuestionError(
            f"the warehouse {path} has no {', '.join(missing)}: build the marts first (`make run`)"
        )
    return con, tables


def _resolve(con, tables: set[str], scope: object, team: str | None, start: date, end: date) -> _Question:
    sources = [MEMBER_DAILY] + ([USAGE_DAILY] if USAGE_DAILY in tables else [])
    known = con.execute(
        " union ".join(f"select distinct scope_type, scope_name from {t}" for t in sources) + " order by 1, 2"
    ).fetchall()
    if not known:  # marts built, but nothing loaded yet (or only days without member records)
        raise QuestionError(
            "no scope has data in the warehouse yet: run `make run` (or "
            "`make backfill START_DAY=YYYY-MM-DD END_DAY=YYYY-MM-DD`) first, then ask again"
        )
    held = _choices([f"{k}:{n}" for k, n in known])
    try:
        scope_type, scope_name = _parse_scope(scope)
    except QuestionError as exc:
        raise QuestionError(f"{exc}; the warehouse holds {held}") from None
    if (scope_type, scope_name) not in known:
        raise QuestionError(f"unknown scope '{scope_type}:{scope_name}': the warehouse holds {held}")
    team_ids: tuple[int, ...] = ()
    if team is not None:
        teams = con.execute(
            f"select team_slug, list(distinct team_id order by team_id) from {TEAM_MEMBERSHIP} "
            "where scope_type = ? and scope_name = ? group by team_slug order by team_slug",
            [scope_type, scope_name],
        ).fetchall()
        by_slug = {slug: tuple(ids) for slug, ids in teams}
        if team not in by_slug:
            raise QuestionError(
                f"unknown team {team!r} in {scope_type}:{scope_name}: teams (by slug) are "
                f"{_choices(sorted(by_slug))}"
            )
        team_ids = by_slug[team]
    return _Question(scope_type, scope_name, team, team_ids, start, end)


# --- the member-day rows a question reads ---------------------------------------------------
def _member_days(q: _Question) -> tuple[str, list[Any]]:
    """SQL (and parameters) of the member-days in scope: day, week_start, user_id, user_login,
    is_active and the counters; for a team, its membership days joined to the usage records."""
    counters = ("user_initiated_interactions", "code_generations", "code_acceptances",
                "loc_suggested_to_add", "loc_added", "loc_deleted")  # fmt: skip
    if q.team_slug is None:
        cols = ", ".join(counters)
        sql = f"""
            select day, user_id, user_login, is_active, {cols}
            from {MEMBER_DAILY}
            where scope_type = ? and scope_name = ? and day between ? and ?
        """
        params: list[Any] = [q.scope_type, q.scope_name, q.start_day, q.end_day]
    else:
        cols = ", ".join(f"coalesce(m.{c}, 0) as {c}" for c in counters)
        placeholders = ", ".join("?" for _ in q.team_ids)
        # a member in the team under two of its ids on one day counts once
        sql = f"""
            select distinct t.day, t.user_id, coalesce(m.user_login, t.user_login) as user_login,
                coalesce(m.is_active, false) as is_active, {cols}
            from {TEAM_MEMBERSHIP} as t
            left join {MEMBER_DAILY} as m
                on t.scope_type = m.scope_type and t.scope_name = m.scope_name
                and t.day = m.day and t.user_id = m.user_id
            where t.scope_type = ? and t.scope_name = ? and t.team_id in ({placeholders})
                and t.day between ? and ?
        """
        params = [q.scope_type, q.scope_name, *q.team_ids, q.start_day, q.end_day]
    # DuckDB's week is the ISO week: date_trunc('week', day) is its Monday
    return f"select *, cast(date_trunc('week', day) as date) as week_start from ({sql})", params


_SUMS = """
    cast(count(distinct day) as bigint) as days_with_data,
    cast(count(distinct user_id) as bigint) as members,
    cast(count(distinct user_id) filter (where is_active) as bigint) as active_users,
    cast(coalesce(sum(code_generations), 0) as bigint) as code_generations,
    cast(coalesce(sum(code_acceptances), 0) as bigint) as code_acceptances,
    sum(code_acceptances) / nullif(sum(code_generations), 0) as acceptance_rate,
    cast(coalesce(sum(user_initiated_interactions), 0) as bigint) as user_initiated_interactions,
    cast(coalesce(sum(loc_suggested_to_add), 0) as bigint) as loc_suggested_to_add,
    cast(coalesce(sum(loc_added), 0) as bigint) as loc_added,
    cast(coalesce(sum(loc_deleted), 0) as bigint) as loc_deleted
"""


def _dates_as_days(df: pd.DataFrame) -> pd.DataFrame:
    for col in _DATE_COLUMNS:
        if col in df.columns:
            df[col] = pd.Series(
                [None if pd.isna(v) else pd.Timestamp(v).date() for v in df[col]],
                index=df.index,
                dtype=object,
            )
    return df


def _totals(con, q: _Question) -> pd.DataFrame:
    base, params = _member_days(q)
    df = con.execute(f"select {_SUMS} from ({base})", params).df()
    df.insert(0, "scope_type", q.scope_type)
    df.insert(1, "scope_name", q.scope_name)
    df.insert(2, "team_slug", q.team_slug)
    df.insert(3, "start_day", q.start_day)
    df.insert(4, "end_day", q.end_day)
    df.insert(5, "days_in_range", (q.end_day - q.start_day).days + 1)
    return _dates_as_days(df[TOTALS_COLUMNS])


def _weekly_trend(con, q: _Question) -> pd.DataFrame:
    base, params = _member_days(q)
    df = con.execute(
        f"""
        select
            week_start,
            week_start + 6 as week_end,
            cast(datediff('day', greatest(week_start, ?::date), least(week_start + 6, ?::date)) + 1
                as bigint) as days_in_range,
            days_in_range < 7 as is_partial_week,
            {_SUMS}
        from ({base})
        group by week_start
        order by week_start
        """,
        [q.start_day, q.end_day, *params],
    ).df()
    return _dates_as_days(df[TREND_COLUMNS])


def _member_breakdown(con, q: _Question) -> pd.DataFrame:
    base, params = _member_days(q)
    df = con.execute(
        f"""
        select
            user_id,
            arg_max(user_login, day) as user_login,
            cast(count(distinct day) filter (where is_active) as bigint) as active_days,
            cast(count(distinct day) as bigint) as days_with_data,
            max(day) filter (where is_active) as last_active_day,
            cast(sum(code_generations) as bigint) as code_generations,
            cast(sum(code_acceptances) as bigint) as code_acceptances,
            sum(code_acceptances) / nullif(sum(code_generations), 0) as acceptance_rate,
            cast(sum(user_initiated_interactions) as bigint) as user_initiated_interactions,
            cast(sum(loc_suggested_to_add) as bigint) as loc_suggested_to_add,
            cast(sum(loc_added) as bigint) as loc_added,
            cast(sum(loc_deleted) as bigint) as loc_deleted
        from ({base})
        group by user_id
        order by code_acceptances desc, active_days desc, user_login, user_id
        """,
        params,
    ).df()
    return _dates_as_days(df[MEMBER_COLUMNS])


def _ask(fn, scope, start_day, end_day, team, warehouse_path):
    start, end = _parse_range(start_day, end_day)
    con, tables = _open(warehouse_path)
    try:
        q = _resolve(con, tables, scope, team, start, end)
        return fn(con, q)
    finally:
        con.close()


# --- the public questions -------------------------------------------------------------------
def totals(
    scope: str | tuple[str, str] | config.Scope,
    start_day: str | date,
    end_day: str | date,
    team: str | None = None,
    warehouse: str | Path | None = None,
) -> pd.DataFrame:
    """Totals over the inclusive range: suggestions, acceptances, acceptance rate, active users.

    Args:
        scope: ``"organization:<slug>"`` / ``"enterprise:<slug>"``, a ``(scope_type, scope_name)``
            pair or a :class:`config.Scope`; must be a scope the warehouse holds.
        start_day: first day, ``YYYY-MM-DD`` or a date.
        end_day: last day (inclusive), not before ``start_day``.
        team: a team slug of the scope (``fct_copilot_team_membership_daily.team_slug``) to count
            only that team's members on the days they were in it; None for the whole scope.
        warehouse: DuckDB file; default ``config.warehouse_path()`` (``COPILOT_WAREHOUSE_PATH``).

    Returns:
        Always one row: ``scope_type``, ``scope_name``, ``team_slug`` (None for the scope),
        ``start_day``, ``end_day`` (dates), ``days_in_range`` (calendar days), ``days_with_data``
        (days with member records), ``members``, ``active_users`` (distinct over the range),
        ``code_generations``, ``code_acceptances``, ``acceptance_rate`` (ratio of sums, NaN
        without generations), ``user_initiated_interactions``, ``loc_suggested_to_add``,
        ``loc_added``, ``loc_deleted`` (lines). A range without data gives zero counts.

    Raises:
        QuestionError: malformed or reversed days, an unknown scope or team (the message lists
            the valid ones), or no warehouse/marts at the path.
        warehouse.WarehouseLockedError: another process kept the file locked for 60 s.
    """
    return _ask(_totals, scope, start_day, end_day, team, warehouse)


def weekly_trend(
    scope: str | tuple[str, str] | config.Scope,
    start_day: str | date,
    end_day: str | date,
    team: str | None = None,
    warehouse: str | Path | None = None,
) -> pd.DataFrame:
    """The weekly acceptance trend: one row per ISO week (Monday to Sunday) overlapping the range
    that holds data, oldest first.

    Only the days inside the range are counted: a week cut by ``start_day`` or ``end_day`` sums
    its in-range days only and is flagged ``is_partial_week`` with ``days_in_range`` below 7.
    Weeks without any member record are left out (``days_with_data`` shows a week's coverage);
    a range without data gives zero rows. Arguments as in :func:`totals`.

    Returns:
        Columns ``week_start`` (Monday), ``week_end`` (Sunday), ``days_in_range`` (1-7),
        ``is_partial_week``, ``days_with_data``, ``members``, ``active_users`` (distinct over the
        week's in-range days), ``code_generations``, ``code_acceptances``, ``acceptance_rate``
        (ratio of the week's sums, NaN without generations), ``user_initiated_interactions``,
        ``loc_suggested_to_add``, ``loc_added``, ``loc_deleted``.

    Raises:
        QuestionError: as :func:`totals`.
    """
    return _ask(_weekly_trend, scope, start_day, end_day, team, warehouse)


def member_breakdown(
    scope: str | tuple[str, str] | config.Scope,
    start_day: str | date,
    end_day: str | date,
    team: str | None = None,
    warehouse: str | Path | None = None,
) -> pd.DataFrame:
    """One row per member with a record in the range (or, for a team, a membership day), most
    acceptances first (then most active days, then login). Arguments as in :func:`totals`.

    Returns:
        Columns ``user_id``, ``user_login`` (the latest login in the range; a pseudonym when the
        marts were built with ``pseudonymize_logins``), ``active_days``, ``days_with_data``,
        ``last_active_day`` (date, None when never active in the range), ``code_generations``,
        ``code_acceptances``, ``acceptance_rate`` (the member's ratio of sums, NaN without
        generations), ``user_initiated_interactions``, ``loc_suggested_to_add``, ``loc_added``,
        ``loc_deleted``. The member rows' counters add up to :func:`totals`. A range without
        data gives zero rows.

    Raises:
        QuestionError: as :func:`totals`.
    """
    return _ask(_member_breakdown, scope, start_day, end_day, team, warehouse)


def ask(
    scope: str | tuple[str, str] | config.Scope,
    start_day: str | date,
    end_day: str | date,
    team: str | None = None,
    warehouse: str | Path | None = None,
) -> Answers:
    """All three answers from one read-only connection: :func:`totals`, :func:`weekly_trend` and
    :func:`member_breakdown` for the same question.

    Raises:
        QuestionError: as :func:`totals`.
    """

    def both(con, q: _Question) -> Answers:
        return Answers(_totals(con, q), _weekly_trend(con, q), _member_breakdown(con, q))

    return _ask(both, scope, start_day, end_day, team, warehouse)


# --- the command ----------------------------------------------------------------------------
def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, float) and math.isnan(value):
                value = None
            elif hasattr(value, "item"):  # numpy scalars
                value = value.item()
            clean[key] = value
        out.append(clean)
    return out


def _for_display(df: pd.DataFrame) -> pd.DataFrame:
    shown = df.copy()
    if "acceptance_rate" in shown.columns:
        shown["acceptance_rate"] = shown["acceptance_rate"].round(4)
    return shown


def render(answers: Answers, fmt: str = "table", answer: str = "all") -> str:
    """The answers as text: ``table`` (aligned, one titled block per answer), ``csv`` (one CSV
    table per answer; with ``answer="all"`` each is preceded by a ``# <answer>`` line and
    separated by a blank line) or ``json`` (one object: ``totals`` as an object, ``weekly_trend``
    and ``members`` as lists; null for a rate without generations).

    Raises:
        ValueError: an unknown format or answer.
    """
    if fmt not in FORMATS or answer not in ANSWERS:
        raise ValueError(f"format must be one of {FORMATS} and answer one of {ANSWERS}")
    parts = {"totals": answers.totals, "trend": answers.weekly_trend, "members": answers.members}
    chosen = {k: v for k, v in parts.items() if answer in ("all", k)}
    if fmt == "json":
        body: dict[str, Any] = {}
        for key, df in chosen.items():
            records = _records(df)
            if key == "totals":
                body["totals"] = records[0]
            else:
                body["weekly_trend" if key == "trend" else "members"] = records
        return json.dumps(body, indent=2)
    if fmt == "csv":
        blocks = [df.to_csv(index=False, na_rep="", date_format="%Y-%m-%d") for df in chosen.values()]
        if answer != "all":
            return blocks[0].rstrip("\n")
        return "\n".join(f"# {key}\n{block}" for key, block in zip(chosen, blocks, strict=True)).rstrip("\n")
    titles = {"totals": "Totals", "trend": "Weekly trend (ISO weeks)", "members": "Members"}
    blocks = []
    for key, df in chosen.items():
        if key == "totals":
            row = _records(_for_display(df))[0]
            text = "\n".join(f"  {k:<28} {'-' if v is None else v}" for k, v in row.items())
        elif df.empty:
            text = "  (no data in the range)"
        else:
            text = _for_display(df).to_string(index=False, na_rep="-")
        blocks.append(f"{titles[key]}\n{text}")
    return "\n\n".join(blocks)


def cli(command: str, argv: list[str]) -> int:
    """``python -m copilot_warehouse usage --scope S --start-day D --end-day D [--team SLUG]
    [--format table|csv|json] [--answer all|totals|trend|members] [--warehouse PATH]``.

    Args:
        command: the command name (``usage``).
        argv: the remaining arguments.

    Returns:
        0 with the answers printed; 2 with a one-line ``error: ...`` on stderr for bad input
        (argparse also exits 2 for a missing or unknown option); 1 when the warehouse stayed
        locked by a writer.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m copilot_warehouse {command}",
        description="Totals, weekly acceptance trend and per-member breakdown for a scope, optional "
        "team and inclusive date range (read from the marts, read-only).",
    )
    parser.add_argument("--scope", required=True, help=f"the scope: {SCOPE_FORMAT}")
    parser.add_argument("--start-day", required=True, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--end-day", required=True, help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--team", help="a team slug of the scope (default: the whole scope)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    parser.add_argument(
        "--answer", choices=ANSWERS, default="all", help="print only one answer (default all three)"
    )
    parser.add_argument(
        "--warehouse", help=f"DuckDB file (default ${config.ENV_WAREHOUSE} or {config.DEFAULT_WAREHOUSE})"
    )
    args = parser.parse_args(argv)
    try:
        answers = ask(
            args.scope, args.start_day, args.end_day, team=args.team or None, warehouse=args.warehouse
        )
    except QuestionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except warehouse.WarehouseLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(render(answers, args.format, args.answer))
    return 0


__all__ = [
    "Answers",
    "QuestionError",
    "ask",
    "member_breakdown",
    "render",
    "totals",
    "weekly_trend",
]
