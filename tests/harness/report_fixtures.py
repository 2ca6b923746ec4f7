"""A small DuckDB warehouse holding ``marts.*`` tables in the shape of the mart contract.

This is a fixture of the contract in DESIGN.md §3 (names, grains and columns of the marts), not
pipeline output: the values are deterministic formulas so tests can recompute every figure with
their own SQL. Three scopes (two organizations with different history lengths and one
enterprise), 49 days, twelve languages (more than the report's top ten), seats that are active,
inactive and never used (plus seat rows without a user assignee, which are none of these), a
data-health and partition-status mart with gaps and an unavailable report, and two anomalies
in the data-quality mart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import duckdb

FIRST_DAY = "2026-10-05"  # a Monday
LAST_DAY = "2026-11-22"  # a Sunday: seven full ISO weeks
SCOPES = (
    ("organization", "octo-demo", FIRST_DAY, 0),
    ("organization", "acme-labs", "2026-10-19", 3),  # joined later: a shorter history
    ("enterprise", "octo-enterprise", FIRST_DAY, 7),
)
LANGUAGES = (
    "python",
    "typescript",
    "go",
    "java",
    "rust",
    "ruby",
    "csharp",
    "cpp",
    "kotlin",
    "swift",
    "php",
    "scala",
)
DIMENSION_VALUES = {
    "language": LANGUAGES,
    "ide": ("vscode", "jetbrains", "neovim"),
    "model": ("gpt-4.1", "claude-sonnet-4"),
    "feature": ("code_completion", "chat_panel", "agent_mode"),
}
ALL_MARTS = (
    "fct_copilot_usage_daily",
    "fct_copilot_acceptance_weekly",
    "fct_copilot_member_daily",
    "fct_copilot_member_summary",
    "fct_copilot_usage_by_dimension_daily",
    "fct_copilot_acceptance_weekly_by_dimension",
    "dim_copilot_seats",
    "fct_copilot_data_health",
    "fct_copilot_partition_status",
    "fct_copilot_data_quality",
    # beyond the DESIGN §3 list, shown by the report when present
    "fct_copilot_team_usage_weekly",
    "fct_copilot_seat_utilisation_weekly",
)


def _scopes_sql() -> str:
    rows = ", ".join(f"('{t}', '{n}', date '{d}', {o})" for t, n, d, o in SCOPES)
    return f"(values {rows}) as s(scope_type, scope_name, first_day, seed)"


def _dimension_values_sql() -> str:
    rows = ", ".join(
        f"('{dim}', '{value}', {rank})"
        for dim, values in DIMENSION_VALUES.items()
        for rank, value in enumerate(values, start=1)
    )
    return f"(values {rows}) as v(dimension, dimension_value, rank)"


MART_SQL: dict[str, str] = {
    "fct_copilot_usage_daily": f"""
        create table marts.fct_copilot_usage_daily as
        with days as (
            select s.*, d::date as day, datediff('day', s.first_day, d::date) as i
            from {_scopes_sql()}
            cross join generate_series(s.first_day, date '{LAST_DAY}', interval 1 day) as g(d)
        ),
        counts as (
            select *, 10 + (i * 7 + seed) % 13 + (case when isodow(day) >= 6 then -6 else 0 end) as dau
            from days
        )
        select scope_type, scope_name, day,
               dau::integer as daily_active_users,
               (dau + 6)::integer as weekly_active_users,
               (dau + 14)::integer as monthly_active_users,
               (dau * 9)::bigint as user_initiated_interactions,
               (dau * 20 + i % 5)::bigint as code_generations,
               ((dau * 20 + i % 5) * (25 + (i + seed) % 10) // 100)::bigint as code_acceptances,
               ((dau * 20 + i % 5) * 3)::bigint as loc_suggested_to_add,
               ((dau * 20 + i % 5) * (25 + (i + seed) % 10) // 100 * 2)::bigint as loc_added,
               ((dau * 20 + i % 5) * 2)::bigint as completion_loc_suggested_to_add,
               ((dau * 20 + i % 5) * (25 + (i + seed) % 10) // 100)::bigint as completion_loc_added,
               ((dau * 20 + i % 5) * (25 + (i + seed) % 10) // 100)::double
                 / (dau * 20 + i % 5) as acceptance_rate,
               'usage_metrics' as source_api
        from counts
    """,
    "fct_copilot_acceptance_weekly": """
        create table marts.fct_copilot_acceptance_weekly as
        with weeks as (
            select scope_type, scope_name, date_trunc('week', day)::date as week_start,
                   count(*)::integer as days_with_data,
                   sum(code_generations)::bigint as code_generations,
                   sum(code_acceptances)::bigint as code_acceptances,
                   sum(loc_suggested_to_add)::bigint as loc_suggested_to_add,
                   sum(loc_added)::bigint as loc_added,
                   sum(completion_loc_suggested_to_add)::bigint as completion_loc_suggested_to_add,
                   sum(completion_loc_added)::bigint as completion_loc_added,
                   max(weekly_active_users)::integer as active_users
            from {usage} group by all
        ),
        rated as (
            select *, code_acceptances::double / nullif(code_generations, 0) as acceptance_rate,
                   completion_loc_added::double / nullif(completion_loc_suggested_to_add, 0)
                     as completion_loc_acceptance_rate
            from weeks
        )
        select scope_type, scope_name, week_start, days_with_data, code_generations, code_acceptances,
               acceptance_rate, loc_suggested_to_add, loc_added,
               loc_added::double / nullif(loc_suggested_to_add, 0) as loc_added_per_suggested_line,
               completion_loc_suggested_to_add, completion_loc_added, completion_loc_acceptance_rate,
               active_users,
               acceptance_rate - lag(acceptance_rate) over (
                   partition by scope_type, scope_name order by week_start
               ) as acceptance_rate_change
        from rated
    """,
    "fct_copilot_member_daily": f"""
        create table marts.fct_copilot_member_daily as
        select s.scope_type, s.scope_name, m.user_id::bigint as user_id,
               'dev-' || lpad(m.user_id::varchar, 2, '0') as user_login,
               d::date as day,
               ((m.user_id * 3 + datediff('day', s.first_day, d::date)) % 9)::bigint as code_generations,
               ((m.user_id * 3 + datediff('day', s.first_day, d::date)) % 9 // 3)::bigint as code_acceptances,
               ((m.user_id * 3 + datediff('day', s.first_day, d::date)) % 9 // 3 * 2)::bigint as loc_added,
               ((m.user_id + datediff('day', s.first_day, d::date)) % 4 = 0) as used_chat,
               ((m.user_id + datediff('day', s.first_day, d::date)) % 7 = 0) as used_agent
        from {_scopes_sql()}
        cross join generate_series(1, 12) as m(user_id)
        cross join generate_series(
            s.first_day, date '{LAST_DAY}' - interval (m.user_id * 2) day, interval 1 day
        ) as g(d)
    """,
    "fct_copilot_member_summary": """
        create table marts.fct_copilot_member_summary as
        select scope_type, scope_name, user_id, user_login,
               min(day) as first_active_day, max(day) as last_active_day,
               count(*)::integer as active_days,
               sum(code_generations)::bigint as code_generations,
               sum(code_acceptances)::bigint as code_acceptances,
               sum(code_acceptances)::double / nullif(sum(code_generations), 0) as acceptance_rate,
               (sum(code_acceptances) * 2)::bigint as loc_added,
               count(*) filter (where used_agent)::integer as agent_days,
               count(*) filter (where used_chat)::integer as chat_days,
               user_id <= 10 as has_seat,
               case when user_id <= 10 then 'business' end as seat_plan_type,
               case when user_id <= 10 then max(day)::timestamptz end as seat_last_activity_at,
               user_id <= 10 and max(day) < date '2026-11-22' - interval 27 day as is_inactive_seat
        from {member_daily}
        group by scope_type, scope_name, user_id, user_login
    """,
    "fct_copilot_usage_by_dimension_daily": f"""
        create table marts.fct_copilot_usage_by_dimension_daily as
        select u.scope_type, u.scope_name, u.day, v.dimension, v.dimension_value,
               (u.user_initiated_interactions // (v.rank + 1))::bigint as user_initiated_interactions,
               (u.code_generations // (v.rank + 1))::bigint as code_generations,
               (u.code_acceptances // (v.rank + 1))::bigint as code_acceptances,
               (u.loc_suggested_to_add // (v.rank + 1))::bigint as loc_suggested_to_add,
               (u.loc_added // (v.rank + 1))::bigint as loc_added,
               (u.code_acceptances // (v.rank + 1))::double
                 / nullif(u.code_generations // (v.rank + 1), 0) as acceptance_rate,
               greatest(1, u.daily_active_users // (v.rank + 1))::integer as active_users
        from {{usage}} as u
        cross join {_dimension_values_sql()}
    """,
    "fct_copilot_acceptance_weekly_by_dimension": """
        create table marts.fct_copilot_acceptance_weekly_by_dimension as
        with weeks as (
            select scope_type, scope_name, date_trunc('week', day)::date as week_start, dimension,
                   dimension_value, sum(code_generations)::bigint as code_generations,
                   sum(code_acceptances)::bigint as code_acceptances,
                   sum(loc_suggested_to_add)::bigint as loc_suggested_to_add,
                   sum(loc_added)::bigint as loc_added
            from {by_dimension} group by all
        ),
        rated as (
            select *, code_acceptances::double / nullif(code_generations, 0) as acceptance_rate,
                   loc_added::double / nullif(loc_suggested_to_add, 0) as loc_added_per_suggested_line
            from weeks
        )
        select *,
               acceptance_rate - lag(acceptance_rate) over w as acceptance_rate_change,
               loc_added_per_suggested_line - lag(loc_added_per_suggested_line) over w
                 as loc_added_per_suggested_line_change
        from rated
        window w as (partition by scope_type, scope_name, dimension, dimension_value order by week_start)
    """,
    "dim_copilot_seats": f"""
        create table marts.dim_copilot_seats as
        select s.scope_type, s.scope_name, 'user:' || k.user_id as seat_key, 'user' as assignee_type,
               k.user_id::bigint as user_id,
               'dev-' || lpad(k.user_id::varchar, 2, '0') as user_login,
               case when k.user_id % 5 = 0 then 'enterprise' else 'business' end as plan_type,
               case when k.user_id <= 12 then timestamptz '{LAST_DAY} 09:30:00+00'
                    - to_days(k.user_id * 3) end as last_activity_at,
               case when k.user_id <= 12 then k.user_id * 3 end as days_since_last_activity,
               k.user_id > 12 as is_never_used,
               k.user_id > 9 as is_inactive_seat,
               case when k.user_id = 14 then date '2026-12-01' end as pending_cancellation_date
        from {_scopes_sql()}
        cross join generate_series(1, 15) as k(user_id)
        union all
        -- seats without a user assignee: no member, never inactive or never used, not counted
        select s.scope_type, s.scope_name, a.assignee_type || ':' || s.seed, a.assignee_type, null, null,
               'business', null, null, false, false, date '2026-12-10'
        from {_scopes_sql()}
        cross join (values ('none'), ('team')) as a(assignee_type)
    """,
    "fct_copilot_data_health": f"""
        create table marts.fct_copilot_data_health as
        select scope_type, scope_name, date '{LAST_DAY}' as latest_report_day,
               (seed % 3)::integer as days_missing, (seed % 2)::integer as days_no_report,
               (case when scope_name = 'acme-labs' then 1 else 0 end)::integer as days_failed,
               (seed * 2)::integer as quarantined_records,
               case when scope_name = 'acme-labs' then 'repos-1-day (HTTP 404)' end as unavailable_reports,
               (case when scope_name = 'octo-demo' then 2 else 0 end)::bigint as source_anomalies
        from {_scopes_sql()}
    """,
    "fct_copilot_partition_status": f"""
        create table marts.fct_copilot_partition_status as
        select s.scope_type, s.scope_name, r.report, d::date as day,
               case when s.scope_name = 'acme-labs' and d::date = date '2026-11-20' then 'failed'
                    when d::date = date '{LAST_DAY}' and r.report = 'user-teams-1-day' then 'no_report'
                    else 'loaded' end as status,
               case when s.scope_name = 'acme-labs' and d::date = date '2026-11-20' then 502
                    when d::date = date '{LAST_DAY}' and r.report = 'user-teams-1-day' then 204
                    else 200 end as http_status
        from {_scopes_sql()}
        cross join (values ('organization-1-day'), ('users-1-day'), ('user-teams-1-day')) as r(report)
        cross join generate_series(s.first_day, date '{LAST_DAY}', interval 1 day) as g(d)
        union all
        -- a report GitHub does not offer for acme-labs: its days are neither failed nor missing
        select 'organization', 'acme-labs', 'repos-1-day', date '2026-11-21', 'unavailable', 404
    """,
    "fct_copilot_data_quality": """
        create table marts.fct_copilot_data_quality as
        select * from (values
            ('organization', 'octo-demo', date '2026-11-21', 'active_users_order', 'organization-1-day',
             null, 'weekly_active_users > monthly_active_users',
             'daily_active_users=3, weekly_active_users=4, monthly_active_users=3',
             'weekly_active_users=4 > monthly_active_users=3', 'warn'),
            ('organization', 'octo-demo', date '2026-11-14', 'acceptances_exceed_generations', 'users-1-day',
             'user dev-03 (3)', 'code_acceptances > code_generations',
             'code_generations=2, code_acceptances=5', 'code_acceptances=5 > code_generations=2', 'warn')
        ) as a(scope_type, scope_name, day, check_name, source_report, subject, fields, observed_values,
               finding, severity)
    """,
    "fct_copilot_team_usage_weekly": """
        create table marts.fct_copilot_team_usage_weekly as
        select w.scope_type, w.scope_name, w.week_start, t.team_id::bigint as team_id, t.team_slug,
               w.days_with_data::bigint as days_with_data,
               (4 + t.team_id * 2)::bigint as team_members,
               (2 + (t.team_id + datediff('week', date '2026-10-05', w.week_start)) % 4)::bigint
                 as active_members,
               (w.code_generations // (2 * (t.team_id + 1)))::bigint as user_initiated_interactions,
               (w.code_generations // (t.team_id + 1))::bigint as code_generations,
               (w.code_acceptances // (t.team_id + 1))::bigint as code_acceptances,
               (w.code_acceptances // (t.team_id + 1))::double
                 / nullif(w.code_generations // (t.team_id + 1), 0) as acceptance_rate,
               (w.loc_suggested_to_add // (t.team_id + 1))::bigint as loc_suggested_to_add,
               (w.loc_added // (t.team_id + 1))::bigint as loc_added
        from {weekly} as w
        cross join (values (1, 'platform'), (2, 'web'), (3, 'data-science')) as t(team_id, team_slug)
    """,
    "fct_copilot_seat_utilisation_weekly": f"""
        create table marts.fct_copilot_seat_utilisation_weekly as
        select scope_type, scope_name, week_start, days_with_data::bigint as days_with_data,
               date '{LAST_DAY}' as snapshot_day, week_start < date '2026-11-16' as is_reconstructed,
               15::bigint as seats, least(15, active_users // 2)::bigint as active_seat_holders,
               (15 - least(15, active_users // 2))::bigint as inactive_seats,
               least(15, active_users // 2) / 15.0 as seat_utilisation_rate
        from {{weekly}}
    """,
}

# Marts derived from others read their inputs from a staging copy, so that any mart can be left
# out of the warehouse without breaking the marts built from it.
_INPUTS = {
    "usage": "fct_copilot_usage_daily",
    "weekly": "fct_copilot_acceptance_weekly",
    "member_daily": "fct_copilot_member_daily",
    "by_dimension": "fct_copilot_usage_by_dimension_daily",
}


def make_marts_warehouse(path: Path, omit: tuple[str, ...] = ()) -> Path:
    """Create a DuckDB file with every mart of the contract, except those in ``omit``.

    Args:
        path: the DuckDB file to create.
        omit: mart names to leave out (to test "no data" panels).

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema fixture_src")
        for sql in MART_SQL.values():
            refs = {alias: f"fixture_src.{mart}" for alias, mart in _INPUTS.items()}
            con.execute(sql.format(**refs).replace("create table marts.", "create table fixture_src.", 1))
        for name in MART_SQL:
            if name not in omit:
                con.execute(f"create table marts.{name} as select * from fixture_src.{name}")
        con.execute("drop schema fixture_src cascade")
    finally:
        con.close()
    return path


# --- reading a rendered report ------------------------------------------------------------------
@dataclass
class ParsedReport:
    """What a test needs from a report page, read with the standard library's HTML parser."""

    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> attrs + "tag" + "text"
    tables: dict[str, list[list[str]]] = field(default_factory=dict)  # table id -> body rows
    references: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attr, value)
    scripts: list[dict[str, str]] = field(default_factory=list)  # attrs + "text"

    @property
    def chart_specs(self) -> dict[str, dict]:
        (spec,) = [s for s in self.scripts if s.get("id") == "chart-specs"]
        return json.loads(spec["text"])

    def text(self, element_id: str) -> str:
        return " ".join(self.ids[element_id]["text"].split())


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = ParsedReport()
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of elements collecting text
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for attr in ("src", "href", "action", "data", "poster", "srcset"):
            if attr in a:
                self.out.references.append((tag, attr, a[attr]))
        if tag == "link":
            self.out.references.append((tag, "rel", a.get("rel", "")))
        if "id" in a:
            self.out.ids[a["id"]] = {**a, "tag": tag, "text": ""}
            self._open.append((tag, a["id"]))
        elif tag not in {"br", "img", "meta", "input", "hr", "link"}:
            self._open.append((tag, None))
        if tag == "table" and "id" in a:
            self._table = a["id"]
            self.out.tables[a["id"]] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "script":
            self._script = {**a, "text": ""}

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            if self._row:
                self.out.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "script" and self._script is not None:
            self.out.scripts.append(self._script)
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script["text"] += data
            return
        if self._cell is not None:
            self._cell.append(data)
        for _, element_id in self._open:
            if element_id:
                self.out.ids[element_id]["text"] += data + " "


def parse_report(html: str) -> ParsedReport:
    """Parse a report page into ids, tables, outgoing references and scripts."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.out


# --- what the charts must show, recomputed from the marts with the tests' own SQL ---------------
def expected_charts(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, list, list]]]:
    """Chart id -> ``[(trace name, x values, y values)]`` expected in the report, from the marts.

    Args:
        con: a connection to a warehouse holding the marts.

    Returns:
        The expected traces of every chart whose mart has rows.
    """

    def rows(sql: str, params: list | None = None) -> list[tuple]:
        return con.execute(sql, params or []).fetchall()

    def iso(values: list) -> list:
        return [v.isoformat() if hasattr(v, "isoformat") else v for v in values]

    present = {
        t for (t,) in rows("select table_name from information_schema.tables where table_schema='marts'")
    }
    scopes = rows(
        "select distinct scope_type, scope_name from marts.fct_copilot_usage_daily order by all"
        if "fct_copilot_usage_daily" in present
        else "select null, null where false"
    )
    out: dict[str, list[tuple[str, list, list]]] = {}
    for scope_type, scope_name in scopes:
        sid = f"{scope_type}-{scope_name}"
        daily = rows(
            "select day, daily_active_users, weekly_active_users, monthly_active_users "
            "from marts.fct_copilot_usage_daily where scope_type = ? and scope_name = ? order by day",
            [scope_type, scope_name],
        )
        days = iso([r[0] for r in daily])
        out[f"chart-{sid}-active-users"] = [
            ("Daily active users", days, [r[1] for r in daily]),
            ("Weekly active users", days, [r[2] for r in daily]),
            ("Monthly active users", days, [r[3] for r in daily]),
        ]
        if "fct_copilot_acceptance_weekly" in present:
            weekly = rows(
                "select week_start, code_acceptances::double / code_generations, "
                "completion_loc_added::double / completion_loc_suggested_to_add, code_generations, "
                "code_acceptances "
                "from marts.fct_copilot_acceptance_weekly where scope_type = ? and scope_name = ? "
                "order by week_start",
                [scope_type, scope_name],
            )
            weeks = iso([r[0] for r in weekly])
            out[f"chart-{sid}-acceptance-weekly"] = [
                ("By suggestions", weeks, [r[1] for r in weekly]),
                ("By completion lines", weeks, [r[2] for r in weekly]),
            ]
            if "fct_copilot_seat_utilisation_weekly" in present:
                seat_weeks = rows(
                    """select week_start, seats, active_seat_holders
                       from marts.fct_copilot_seat_utilisation_weekly
                       where scope_type = ? and scope_name = ? order by week_start""",
                    [scope_type, scope_name],
                )
                if seat_weeks:
                    seat_x = iso([r[0] for r in seat_weeks])
                    out[f"chart-{sid}-seat-utilisation"] = [
                        ("Seats", seat_x, [r[1] for r in seat_weeks]),
                        ("Active seat holders", seat_x, [r[2] for r in seat_weeks]),
                    ]
            out[f"chart-{sid}-suggestions-weekly"] = [
                ("Suggestions", weeks, [r[3] for r in weekly]),
                ("Acceptances", weeks, [r[4] for r in weekly]),
            ]
        if "fct_copilot_usage_by_dimension_daily" in present:
            for dimension in DIMENSION_VALUES:
                # Top ten by suggestions, then prompts, then name, over the last 28 days of data.
                top = rows(
                    "select dimension_value, sum(code_generations), sum(code_acceptances), "
                    "sum(user_initiated_interactions) "
                    "from marts.fct_copilot_usage_by_dimension_daily "
                    "where scope_type = ? and scope_name = ? and dimension = ? and day > ("
                    "  select max(day) - 28 from marts.fct_copilot_usage_by_dimension_daily "
                    "  where scope_type = ? and scope_name = ? and dimension = ?) "
                    "group by 1 order by 2 desc, 4 desc, 1 limit 10",
                    [scope_type, scope_name, dimension] * 2,
                )
                if not top:
                    continue
                values = [r[0] for r in top]
                out[f"chart-{sid}-by-{dimension}"] = [
                    ("Suggestions", values, [r[1] for r in top]),
                    ("Acceptances", values, [r[2] for r in top]),
                ] + ([("Prompts", values, [r[3] for r in top])] if any(r[3] for r in top) else [])
    if scopes:
        overview = []
        for scope_type, scope_name in sorted(scopes, key=lambda s: (s[0] != "organization", s[1])):
            series = rows(
                "select day, daily_active_users from marts.fct_copilot_usage_daily "
                "where scope_type = ? and scope_name = ? order by day",
                [scope_type, scope_name],
            )
            overview.append((scope_name, iso([r[0] for r in series]), [r[1] for r in series]))
        out["chart-overview-daily-active-users"] = overview
        if "fct_copilot_acceptance_weekly" in present:
            weekly_lines = []
            for scope_type, scope_name in sorted(scopes, key=lambda s: (s[0] != "organization", s[1])):
                series = rows(
                    "select week_start, code_acceptances::double / code_generations "
                    "from marts.fct_copilot_acceptance_weekly "
                    "where scope_type = ? and scope_name = ? order by week_start",
                    [scope_type, scope_name],
                )
                if series:
                    weekly_lines.append((scope_name, iso([r[0] for r in series]), [r[1] for r in series]))
            out["chart-overview-acceptance-weekly"] = weekly_lines
    return out
