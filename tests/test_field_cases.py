"""Field cases: odd but real GitHub answers, run through the whole pipeline, checked on the marts.

Each case folder of ``tests/data/field-cases`` (a copy of the shared field cases; ``FIELD_CASES_DIR``
overrides it) is served by
:class:`field_case_server.FieldCaseServer` on 127.0.0.1 and run the way ``make backfill`` runs,
without Airflow: ``backfill.backfill_range`` checks availability, fetches, lands, loads, runs
``dbt build`` and writes the HTML report. The day range is the span of report days present in the
case folder (``.raw`` days included); the seat snapshot is taken on 2026-11-30. Each case runs
once, in its own warehouse, and its test asserts the right value of the case README on the marts,
read-only. A test lists every value it found wrong (seen vs expected) before failing, so one run
tells everything a case still gets wrong.

Cases 11, 14 and 15 (CLI and desktop app activity, cloud-agent counts, pull-request figures) are
checked by the tests at the end of the module.
"""

from __future__ import annotations

import html
import io
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time
import traceback
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from copilot_dev import airflow_env
from copilot_dev import run as make_run
from copilot_warehouse import config
from copilot_warehouse import warehouse as wh
from copilot_warehouse.pipeline import backfill, gaps
from harness.field_case_server import FieldCaseServer, case_days, case_scopes

pytestmark = pytest.mark.integration

CASES_DIR = Path(
    os.environ.get("FIELD_CASES_DIR") or Path(__file__).resolve().parent / "data" / "field-cases"
)
TODAY = date(2026, 11, 30)  # the run's UTC day: the seat snapshot day (seat timestamps are late Nov 2026)
TESTS_DIR = Path(__file__).resolve().parent
MARTS_DIR = TESTS_DIR.parent / "dbt" / "models" / "marts"  # every _marts__*.yml names marts
ORG, ENT = config.ORGANIZATION, config.ENTERPRISE
EAST, WEST, ENTERPRISE = "fc-org-east", "fc-org-west", "fc-enterprise"
D = date.fromisoformat


# --- running a case ---------------------------------------------------------------------------------
@dataclass
class CaseRun:
    """One case run through the pipeline: where its warehouse is and what happened on the way."""

    name: str
    warehouse: Path
    landing: Path
    scopes: list[config.Scope]
    days: list[date]
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    error: str | None = None
    output: str = ""

    @property
    def report(self) -> Path:
        """The HTML report ``backfill_range`` writes next to the warehouse."""
        return self.warehouse.parent / "report" / "index.html"

    def asked(self, target_regex: str, status: int | None = None) -> int:
        """How many recorded requests match ``target_regex`` (path and query) and ``status``."""
        rx = re.compile(target_regex)
        return sum(1 for _m, t, s in self.requests if rx.search(t) and (status is None or s == status))


def run_case(name: str, workdir: Path, dbt_target: Path | None = None) -> CaseRun:
    """Serve case ``name`` and run ``backfill.backfill_range`` through it (each fetch folder in order).

    Args:
        name: the case folder name under :data:`CASES_DIR`.
        workdir: empty folder for the warehouse, landing zone and report.
        dbt_target: dbt artifacts folder (default ``workdir/dbt-target``).

    Returns:
        The :class:`CaseRun`; a failing step (``backfill.PipelineError`` or any other exception) is kept
        in ``error``, not raised, so the test still reports what the marts hold.
    """
    folder = CASES_DIR / name
    fetches = sorted(p for p in folder.glob("fetch*") if p.is_dir()) or [folder]
    days = sorted({d for f in fetches for d in case_days(f)}) or [TODAY - timedelta(days=3)]
    first_scopes = case_scopes(fetches[0])
    run = CaseRun(
        name=name,
        warehouse=workdir / "warehouse.duckdb",
        landing=workdir / "landing",
        scopes=[config.Scope(ORG, o) for o in first_scopes["orgs"]]
        + [config.Scope(ENT, e) for e in first_scopes["enterprises"]],
        days=days,
    )
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, FieldCaseServer(fetches[0]) as server:
        # backfill_range sets the connection in os.environ; the context restores the caller's.
        mp.setenv(backfill.ENV_CONN, "{}")
        mp.setenv("COPILOT_DBT_TARGET_PATH", str(dbt_target or workdir / "dbt-target"))
        for fetch in fetches:
            server.serve(fetch)
            scopes = case_scopes(fetch)
            source = backfill.Source(
                connection=airflow_env.connection_json(server.url, server.token),
                orgs=scopes["orgs"],
                enterprises=scopes["enterprises"],
                start=days[0],
                end=days[-1],
                label="field case",
            )
            try:
                with redirect_stdout(out):
                    run.totals.append(
                        backfill.backfill_range(
                            source, warehouse=run.warehouse, landing_root=str(run.landing), today=TODAY
                        )
                    )
            except backfill.PipelineError as exc:
                run.error = f"{fetch.name}: {exc}"
            except Exception as exc:  # noqa: BLE001 - reported by the case's test, with the traceback
                run.error = f"{fetch.name}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
            if run.error:
                break
        run.requests = list(server.requests)
    run.output = out.getvalue()
    return run


@pytest.fixture(scope="module")
def case_run(tmp_path_factory):
    """``case_run(name)``: the case's single pipeline run (cached for the module)."""
    runs: dict[str, CaseRun] = {}
    dbt_target = tmp_path_factory.mktemp("dbt-target")  # shared: dbt's partial parse saves seconds

    def get(name: str) -> CaseRun:
        if name not in runs:
            runs[name] = run_case(name, tmp_path_factory.mktemp(name.split("-")[0]), dbt_target)
        return runs[name]

    return get


# --- checking values, all of them before failing -------------------------------------------------
def _same(seen: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(seen, int | float) and not isinstance(seen, bool):
        return math.isclose(float(seen), expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, date) and not isinstance(expected, datetime):
        return type(seen) is date and seen == expected  # a date, not a timestamp or text
    if isinstance(expected, dict) and isinstance(seen, dict):
        return seen.keys() == expected.keys() and all(_same(seen[k], expected[k]) for k in expected)
    if isinstance(expected, list | tuple) and isinstance(seen, list | tuple):
        return len(seen) == len(expected) and all(_same(s, e) for s, e in zip(seen, expected, strict=True))
    if expected is None:
        return seen is None
    return seen == expected


class Expect:
    """Collects mismatches (what, seen, expected) for one case; :meth:`done` fails with all of them."""

    def __init__(self, run: CaseRun) -> None:
        self.run = run
        self.failures: list[str] = []
        self._con = None
        if run.error:
            self.failures.append(f"the pipeline run failed: {run.error.strip()}")

    def _connection(self):
        if self._con is None:
            self._con = wh.connect(self.run.warehouse, read_only=True, lock_timeout=10)
        return self._con

    def rows(self, what: str, sql: str, params: list | None = None) -> list[dict[str, Any]] | None:
        """Run a read-only query; on error record it (missing mart or column) and return None."""
        try:
            cur = self._connection().execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        except Exception as exc:  # noqa: BLE001 - a missing mart/column is a finding, not a crash
            self.failures.append(f"{what}: query failed: {str(exc).strip().splitlines()[0]}")
            return None

    def eq(self, what: str, seen: Any, expected: Any) -> None:
        if not _same(seen, expected):
            self.failures.append(f"{what}: saw {seen!r}, expected {expected!r}")

    def true(self, what: str, condition: bool, seen: Any) -> None:
        if not condition:
            self.failures.append(f"{what}: saw {seen!r}")

    def done(self) -> None:
        if self._con is not None:
            self._con.close()
        assert not self.failures, f"{self.run.name}: {len(self.failures)} wrong value(s):\n  " + "\n  ".join(
            self.failures
        )

    # shared queries -------------------------------------------------------------------------
    def daily(self, scope_type: str, scope_name: str) -> dict[date, dict[str, Any]]:
        rows = self.rows(
            f"fct_copilot_usage_daily {scope_name}",
            "select * from marts.fct_copilot_usage_daily where scope_type = ? and scope_name = ?",
            [scope_type, scope_name],
        )
        return {r["day"]: r for r in rows or []}

    def weekly(self, scope_type: str, scope_name: str, week_start: date) -> dict[str, Any]:
        rows = self.rows(
            f"fct_copilot_acceptance_weekly {scope_name} {week_start}",
            "select * from marts.fct_copilot_acceptance_weekly "
            "where scope_type = ? and scope_name = ? and week_start = ?",
            [scope_type, scope_name, week_start],
        )
        if rows is not None and len(rows) != 1:
            self.failures.append(f"fct_copilot_acceptance_weekly {scope_name} {week_start}: {len(rows)} rows")
        return rows[0] if rows else {}

    def members(self, scope_type: str, scope_name: str) -> dict[str, dict[str, Any]]:
        rows = self.rows(
            f"fct_copilot_member_summary {scope_name}",
            "select * from marts.fct_copilot_member_summary where scope_type = ? and scope_name = ?",
            [scope_type, scope_name],
        )
        return {r["user_login"]: r for r in rows or []}

    def no_failed_partitions(self) -> None:
        """No partition whose latest state is 'failed', and data health counts none."""
        failed = self.rows(
            "raw.ingest_log failed partitions",
            """select scope_name, report, day, http_status, message from raw.ingest_log
               qualify row_number() over (
                   partition by scope_type, scope_name, report, day order by finished_at desc) = 1
               and status = 'failed'""",
        )
        self.eq("partitions whose latest state is failed", failed, [])
        self.eq("failed days in the run totals", sum(t.get("failed", 0) for t in self.run.totals), 0)
        health = self.rows(
            "fct_copilot_data_health", "select scope_name, days_failed from marts.fct_copilot_data_health"
        )
        self.eq(
            "data health days_failed per scope",
            {r["scope_name"]: r["days_failed"] for r in health or []},
            {s.name: 0 for s in self.run.scopes},
        )


def pick(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """The named columns of a mart row (missing row: every value None)."""
    return {c: row.get(c) for c in columns}


# --- the fixture server itself --------------------------------------------------------------------
def test_the_field_case_server_answers_like_github():
    """Stored bodies byte for byte, signed links, 204/401/404, seat paging and folder switching."""

    def get(url: str, **kwargs: Any) -> requests.Response:
        return requests.get(url, timeout=10, **kwargs)

    case01, case02, case16 = CASES_DIR / "case01", CASES_DIR / "case02", CASES_DIR / "case16"
    with FieldCaseServer(case01, link_ttl_seconds=1) as server:
        auth = {"Authorization": f"Bearer {server.token}"}
        reports = f"{server.url}/orgs/{EAST}/copilot/metrics/reports"
        for day in ("2025-12-12", "2025-12-13", "2025-12-14"):
            resp = get(f"{reports}/users-1-day", params={"day": day}, headers=auth)
            stored = (case01 / EAST / "users-1-day" / f"{day}.raw").read_bytes()
            assert (resp.status_code, resp.content) == (200, stored)
        resp = get(f"{reports}/users-1-day", params={"day": "2025-12-15"}, headers=auth)
        assert resp.json()["report_day"] == "2025-12-15"
        (link,) = resp.json()["download_links"]
        assert get(link, headers=auth).status_code == 403  # never with the token
        assert get(link.replace("signature=", "signature=0")).status_code == 403
        body = get(link)
        assert body.content == (case01 / EAST / "users-1-day" / "2025-12-15.ndjson").read_bytes()
        assert get(f"{reports}/users-1-day", params={"day": "2025-12-20"}, headers=auth).status_code == 204
        assert get(f"{reports}/users-28-day/latest", headers=auth).status_code == 204
        wrong = get(f"{reports}/users-1-day?day=2025-12-15", headers={"Authorization": "Bearer x"})
        assert (wrong.status_code, wrong.json()["message"]) == (401, "Bad credentials")
        unknown = get(f"{server.url}/orgs/elsewhere/copilot/billing", headers=auth)
        assert (unknown.status_code, unknown.json()["message"]) == (404, "Not Found")
        seats = get(f"{server.url}/enterprises/{ENTERPRISE}/copilot/billing/seats", headers=auth)
        assert seats.json() == {"total_seats": 0, "seats": []}
        time.sleep(2.1)
        assert get(link).status_code == 403  # expired
        assert server.count(r"users-1-day\?day=2025-12-15$") == 2
        assert ("GET", urlsplit(link).path, 403) in server.requests  # downloads recorded without the query

    with FieldCaseServer(case16) as server:
        auth = {"Authorization": f"Bearer {server.token}"}
        billing = get(f"{server.url}/orgs/{EAST}/copilot/billing", headers=auth).json()
        assert (billing["seat_breakdown"]["total"], billing["plan_type"]) == (3, "business")
        url, pages, seen = f"{server.url}/orgs/{EAST}/copilot/billing/seats?per_page=3", 0, []
        while url:
            page = get(url, headers=auth)
            assert page.json()["total_seats"] == 3
            seen += page.json()["seats"]
            pages, url = pages + 1, page.links.get("next", {}).get("url")
        assert (pages, seen) == (2, json.loads((case16 / EAST / "seats.json").read_text())["seats"])

    with FieldCaseServer(case02 / "fetch1") as server:
        auth = {"Authorization": f"Bearer {server.token}"}
        bodies = []
        for fetch in ("fetch1", "fetch2"):
            server.serve(case02 / fetch)
            resp = get(
                f"{server.url}/orgs/{EAST}/copilot/metrics/reports/users-1-day?day=2026-09-08", headers=auth
            )
            bodies.append(get(resp.json()["download_links"][0]).content)
        assert bodies == [
            (case02 / f / EAST / "users-1-day" / "2026-09-08.ndjson").read_bytes()
            for f in ("fetch1", "fetch2")
        ]


# --- the cases -------------------------------------------------------------------------------------
# case11 (desktop app -> CLI), case14 (absent CLI block, null cloud-agent count) and case15
# (pull-request figures) are at the end of the module.


def test_case01_empty_200_report_answers_are_no_report_never_failed_or_zero(case_run):
    run = case_run("case01")
    x = Expect(run)
    empty = {
        (ORG, EAST): [D("2025-12-12"), D("2025-12-13"), D("2025-12-14")],
        (ENT, ENTERPRISE): [D("2025-12-10")],
    }
    aggregate = {ORG: "organization-1-day", ENT: "enterprise-1-day"}
    # the case really went through the empty-200 path: each of those days answered 200 once
    for (stype, name), days in empty.items():
        for day in days:
            for report in (aggregate[stype], "users-1-day"):
                x.eq(
                    f"200 answers for {name} {report} {day}",
                    run.asked(rf"/{name}/.*/{report}\?day={day}$", 200),
                    1,
                )

    east, ent = x.daily(ORG, EAST), x.daily(ENT, ENTERPRISE)
    cols = ("code_generations", "code_acceptances")
    x.eq("org 2025-12-15", pick(east.get(D("2025-12-15"), {}), *cols), dict(zip(cols, (20, 5), strict=True)))
    x.eq("org 2025-12-16", pick(east.get(D("2025-12-16"), {}), *cols), dict(zip(cols, (10, 4), strict=True)))
    x.eq(
        "enterprise 2025-12-11",
        pick(ent.get(D("2025-12-11"), {}), *cols),
        dict(zip(cols, (8, 2), strict=True)),
    )
    # never a measured zero: the empty days have no daily row and no member row
    x.eq("org daily rows on the empty days", sorted(d for d in east if d in empty[(ORG, EAST)]), [])
    x.eq("enterprise daily rows on the empty day", sorted(d for d in ent if d == D("2025-12-10")), [])
    member_rows = x.rows(
        "member rows on the empty days",
        """select scope_name, day from marts.fct_copilot_member_daily
           where (scope_type = 'organization' and day between '2025-12-12' and '2025-12-14')
              or (scope_type = 'enterprise' and day = '2025-12-10')""",
    )
    x.eq("member rows on the empty days", member_rows, [])

    # recorded exactly like a 204: latest state no_report, in the log and in the partition mart
    logged = x.rows(
        "raw.ingest_log",
        """select scope_type, scope_name, report, day, status from raw.ingest_log
           qualify row_number() over (
               partition by scope_type, scope_name, report, day order by finished_at desc) = 1""",
    )
    status = x.rows(
        "fct_copilot_partition_status",
        "select scope_type, scope_name, report, day, status from marts.fct_copilot_partition_status",
    )
    for label, found in (("raw.ingest_log", logged), ("fct_copilot_partition_status", status)):
        by_key = {(r["scope_type"], r["scope_name"], r["report"], r["day"]): r["status"] for r in found or []}
        for (stype, name), days in empty.items():
            for day in days:
                for report in (aggregate[stype], "users-1-day"):
                    x.eq(
                        f"{label} {name} {report} {day}", by_key.get((stype, name, report, day)), "no_report"
                    )
    x.no_failed_partitions()
    # retried by later runs: gap repair lists them as no_report
    found_gaps = {
        (g.scope.name, g.report, g.day, g.reason) for g in gaps.find_gaps(run.warehouse, run.scopes, TODAY)
    }
    for (stype, name), days in empty.items():
        for day in days:
            for report in (aggregate[stype], "users-1-day"):
                gap = (name, report, day, "no_report")
                x.true(
                    f"gap repair re-fetches {gap}",
                    gap in found_gaps,
                    sorted(g for g in found_gaps if g[2] == day),
                )
    x.done()


def test_case02_a_restated_day_shows_only_the_second_publication(case_run):
    run = case_run("case02")
    x = Expect(run)
    x.eq("fetches run", len(run.totals), 2)
    x.eq(
        "times organization-1-day 2026-09-08 was asked for",
        run.asked(r"organization-1-day\?day=2026-09-08$"),
        2,
    )
    day = x.daily(ORG, EAST).get(D("2026-09-08"), {})
    x.eq(
        "org 2026-09-08",
        pick(
            day,
            "daily_active_users",
            "active_members",
            "code_generations",
            "code_acceptances",
            "acceptance_rate",
        ),
        {
            "daily_active_users": 3,
            "active_members": 3,
            "code_generations": 50,
            "code_acceptances": 16,
            "acceptance_rate": 16 / 50,
        },
    )
    member_days = x.rows(
        "member_daily 2026-09-08",
        "select user_login, code_generations, code_acceptances from marts.fct_copilot_member_daily "
        "where scope_name = ? and day = '2026-09-08' order by user_login",
        [EAST],
    )
    x.eq(
        "member_daily rows on 2026-09-08",
        member_days,
        [
            {"user_login": "user-amber", "code_generations": 24, "code_acceptances": 6},
            {"user_login": "user-birch", "code_generations": 10, "code_acceptances": 2},
            {"user_login": "user-cedar", "code_generations": 16, "code_acceptances": 8},
        ],
    )
    members = x.members(ORG, EAST)
    x.eq(
        "member user-amber",
        pick(members.get("user-amber", {}), "code_generations", "code_acceptances"),
        {"code_generations": 24, "code_acceptances": 6},
    )
    x.eq("user-cedar active days", members.get("user-cedar", {}).get("active_days"), 1)
    x.no_failed_partitions()
    x.done()


def test_case03_rates_are_ratios_of_sums_and_a_chat_only_day_has_none(case_run):
    run = case_run("case03")
    x = Expect(run)
    daily = x.daily(ORG, EAST)
    x.eq(
        "daily acceptance rates",
        {d: r["acceptance_rate"] for d, r in daily.items()},
        {D("2026-09-07"): 100 / 1000, D("2026-09-08"): 9 / 10, D("2026-09-09"): None},
    )
    week = x.weekly(ORG, EAST, D("2026-09-07"))
    x.eq(
        "week of 2026-09-07",
        pick(week, "code_generations", "code_acceptances", "acceptance_rate", "days_with_data"),
        {
            "code_generations": 1010,
            "code_acceptances": 109,
            "acceptance_rate": 109 / 1010,
            "days_with_data": 3,
        },
    )
    x.no_failed_partitions()
    x.done()


def _overview_kpis(report: Path) -> dict[str, tuple[str, str]]:
    """The report overview's KPI cards: ``{label: (value, detail)}``."""
    text = report.read_text(encoding="utf-8")
    start = text.index('<section class="scope" id="overview">')
    end = text.find('<section class="scope"', start + 1)
    section = text[start : end if end > 0 else len(text)]
    cards = re.findall(
        r'<div class="kpi-label">(.*?)</div>\s*<div class="kpi-value">(.*?)</div>\s*'
        r'<div class="kpi-detail[^"]*">(.*?)</div>',
        section,
        flags=re.S,
    )
    return {
        html.unescape(label).strip(): (html.unescape(v).strip(), html.unescape(d).strip())
        for label, v, d in cards
    }


def test_case08_a_person_in_two_orgs_counts_once_in_the_enterprise_and_the_report(case_run):
    run = case_run("case08")
    x = Expect(run)
    cols = ("daily_active_users", "active_members", "code_generations", "code_acceptances")
    day = D("2026-09-08")
    for (stype, name), values in {
        (ORG, EAST): (2, 2, 50, 13),
        (ORG, WEST): (2, 2, 40, 14),
        (ENT, ENTERPRISE): (3, 3, 60, 18),
    }.items():
        x.eq(
            f"{name} {day}",
            pick(x.daily(stype, name).get(day, {}), *cols),
            dict(zip(cols, values, strict=True)),
        )
    amber = x.rows(
        "enterprise member rows of user-amber",
        "select day from marts.fct_copilot_member_daily where scope_type = 'enterprise' and user_id = 7001",
    )
    x.eq("enterprise member_daily rows of user-amber", amber, [{"day": day}])
    members = x.members(ENT, ENTERPRISE)
    x.eq("enterprise members", sorted(members), ["user-amber", "user-birch", "user-cedar"])
    # The report's "all organizations" figures: the enterprise's (54 lines added), never 39 + 42 = 81.
    if run.report.is_file():
        kpis = _overview_kpis(run.report)
        x.eq(
            "overview 'Lines of code added' (value, detail)",
            kpis.get("Lines of code added", ("?", ""))[0],
            "54",
        )
    else:
        x.failures.append(f"no HTML report at {run.report}")
    x.no_failed_partitions()
    x.done()


def test_case09_team_rows_follow_membership_per_day_and_overlap_by_design(case_run):
    run = case_run("case09")
    x = Expect(run)
    cols = ("team_members", "active_members", "code_generations", "code_acceptances", "loc_added")
    daily = x.rows(
        "fct_copilot_team_usage_daily",
        f"select day, team_slug, {', '.join(cols)} from marts.fct_copilot_team_usage_daily "
        "where scope_name = ? order by day, team_slug",
        [EAST],
    )
    by_day: dict[date, dict[str, dict]] = {}
    for r in daily or []:
        by_day.setdefault(r["day"], {})[r["team_slug"]] = pick(r, *cols)
    x.eq(
        "team rows on 2026-09-08",
        by_day.get(D("2026-09-08")),
        {
            "backend": dict(zip(cols, (1, 1, 40, 12, 88), strict=True)),
            "frontend": dict(zip(cols, (2, 2, 65, 19, 112), strict=True)),
        },
    )
    x.eq(
        "team rows on 2026-09-09 (no backend row)",
        {k: pick(v, *cols[:4]) for k, v in (by_day.get(D("2026-09-09")) or {}).items()},
        {
            "frontend": dict(zip(cols[:4], (1, 1, 20, 4), strict=True)),
            "platform": dict(zip(cols[:4], (1, 1, 10, 5), strict=True)),
        },
    )
    weekly = x.rows(
        "fct_copilot_team_usage_weekly",
        "select team_slug, team_members, active_members, code_generations, code_acceptances "
        "from marts.fct_copilot_team_usage_weekly where scope_name = ? and week_start = '2026-09-07'",
        [EAST],
    )
    x.eq(
        "team rows in the week of 2026-09-07",
        {r["team_slug"]: pick(r, *cols[:4]) for r in weekly or []},
        {
            "backend": dict(zip(cols[:4], (1, 1, 40, 12), strict=True)),
            "frontend": dict(zip(cols[:4], (2, 2, 85, 23), strict=True)),
            "platform": dict(zip(cols[:4], (1, 1, 10, 5), strict=True)),
        },
    )
    week = x.weekly(ORG, EAST, D("2026-09-07"))
    x.eq(
        "org week of 2026-09-07",
        pick(week, "code_generations", "code_acceptances"),
        {"code_generations": 95, "code_acceptances": 28},
    )
    x.no_failed_partitions()
    x.done()


def test_case13_ai_credits_on_inactive_user_days_are_kept(case_run):
    run = case_run("case13")
    x = Expect(run)
    credits = x.rows(
        "AI credits per day",
        "select day, sum(ai_credits_used) as credits, count(*) as records "
        "from marts.fct_copilot_member_daily where scope_name = ? group by day order by day",
        [EAST],
    )
    x.eq(
        "member_daily AI credits and records per day",
        {r["day"]: (r["credits"], r["records"]) for r in credits or []},
        {D("2026-09-08"): (6.75, 2), D("2026-09-09"): (0.0, 1)},  # 0.0 is a measured zero, not NULL
    )
    birch = x.members(ORG, EAST).get("user-birch", {})
    x.eq(
        "user-birch",
        pick(birch, "active_days", "ai_credits_used"),
        {"active_days": 0, "ai_credits_used": 2.25},
    )
    day = x.daily(ORG, EAST).get(D("2026-09-08"), {})
    x.eq(
        "daily active users on 2026-09-08",
        pick(day, "daily_active_users", "active_members"),
        {"daily_active_users": 1, "active_members": 1},
    )
    raw = x.rows(
        "raw user records", "select count(*) as n from raw.copilot_usage_users where scope_name = ?", [EAST]
    )
    x.eq("raw user records", raw, [{"n": 3}])
    x.no_failed_partitions()
    x.done()


def test_case16_null_and_team_seat_assignees_are_kept_but_are_not_members(case_run):
    run = case_run("case16")
    x = Expect(run)
    raw = x.rows(
        "raw.copilot_seats",
        "select count(*) as n from raw.copilot_seats where scope_name = ? and snapshot_day = ?",
        [EAST, TODAY],
    )
    x.eq("raw seat rows (all kept)", raw, [{"n": 4}])
    totals = x.rows(
        "raw.copilot_seat_totals",
        "select total_seats, seat_rows from raw.copilot_seat_totals "
        "where scope_name = ? and snapshot_day = ?",
        [EAST, TODAY],
    )
    x.eq("total_seats beside the seat rows", totals, [{"total_seats": 3, "seat_rows": 4}])
    seats = x.rows(
        "dim_copilot_seats",
        "select assignee_type, user_id, user_login, is_inactive_seat, is_never_used, "
        "pending_cancellation_date, is_pending_cancellation from marts.dim_copilot_seats "
        "where scope_name = ? order by all",
        [EAST],
    )
    seats = seats or []
    x.eq(
        "seat rows by assignee_type",
        sorted(str(r["assignee_type"]) for r in seats),
        ["none", "team", "user", "user"],
    )
    x.eq(
        "user seat holders",
        sorted(str(r["user_login"]) for r in seats if r["assignee_type"] == "user"),
        ["user-amber", "user-birch"],
    )
    x.eq(
        "inactive or never-used seats", [r for r in seats if r["is_inactive_seat"] or r["is_never_used"]], []
    )
    birch = next((r for r in seats if r["user_login"] == "user-birch"), {})
    x.eq(
        "user-birch pending cancellation",
        pick(birch, "pending_cancellation_date", "is_pending_cancellation"),
        {"pending_cancellation_date": D("2026-12-10"), "is_pending_cancellation": True},
    )
    members = x.rows(
        "fct_copilot_member_summary",
        "select user_id, user_login, has_seat, is_inactive_seat, is_never_used_seat, "
        "seat_pending_cancellation_date from marts.fct_copilot_member_summary "
        "where scope_name = ? order by user_id",
        [EAST],
    )
    x.eq(
        "members",
        members,
        [
            {
                "user_id": 7001,
                "user_login": "user-amber",
                "has_seat": True,
                "is_inactive_seat": False,
                "is_never_used_seat": False,
                "seat_pending_cancellation_date": None,
            },
            {
                "user_id": 7002,
                "user_login": "user-birch",
                "has_seat": True,
                "is_inactive_seat": False,
                "is_never_used_seat": False,
                "seat_pending_cancellation_date": D("2026-12-10"),
            },
        ],
    )
    x.no_failed_partitions()
    x.done()


def test_case20_a_renamed_login_is_one_member_under_the_newest_login(case_run):
    run = case_run("case20")
    x = Expect(run)
    members = x.rows(
        "fct_copilot_member_summary",
        "select user_id, user_login, active_days, code_generations, code_acceptances, acceptance_rate, "
        "first_active_day, last_active_day from marts.fct_copilot_member_summary where scope_name = ?",
        [EAST],
    )
    x.eq(
        "members",
        members,
        [
            {
                "user_id": 7005,
                "user_login": "user-emberly",
                "active_days": 2,
                "code_generations": 20,
                "code_acceptances": 8,
                "acceptance_rate": 0.4,
                "first_active_day": D("2026-09-08"),
                "last_active_day": D("2026-09-10"),
            }
        ],
    )
    history = x.rows(
        "raw logins of user 7005",
        "select distinct json_extract_string(record, '$.user_login') as login from raw.copilot_usage_users "
        "where user_id = 7005 order by login",
    )
    x.eq("logins kept in raw history", history, [{"login": "user-ember"}, {"login": "user-emberly"}])
    week = x.weekly(ORG, EAST, D("2026-09-07"))
    x.eq("weekly active users", week.get("active_users"), 1)
    x.no_failed_partitions()
    x.done()


def test_case22_users_report_without_its_organization_report(case_run):
    run = case_run("case22-users-without-aggregate")
    x = Expect(run)
    day = D("2026-09-08")
    member_days = x.rows(
        "fct_copilot_member_daily",
        "select day, user_id from marts.fct_copilot_member_daily where scope_name = ?",
        [EAST],
    )
    x.eq("member_daily rows", member_days, [{"day": day, "user_id": 7001}])
    x.eq("member_summary logins", sorted(x.members(ORG, EAST)), ["user-amber"])
    row = x.daily(ORG, EAST).get(day)
    # no row for the day, or one that shows GitHub's figures as unknown (never measured zeros)
    x.true(
        "org daily row on 2026-09-08 is absent or marked as missing its aggregate",
        row is None or (row["daily_active_users"] is None and row["weekly_active_users"] is None),
        row,
    )
    x.no_failed_partitions()
    x.done()


def _mart_names() -> set[str]:
    return {
        m["name"]
        for path in sorted(MARTS_DIR.glob("_marts__*.yml"))
        for m in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", [])
    }


def test_case23_inconsistent_active_user_counts_are_a_warning_not_a_failure(case_run):
    run = case_run("case23-actives-inconsistent")
    x = Expect(run)
    built = x.rows(
        "marts built", "select table_name from information_schema.tables where table_schema = 'marts'"
    )
    expected_marts = _mart_names() | {"fct_copilot_data_quality"}
    x.eq("marts not built", sorted(expected_marts - {r["table_name"] for r in built or []}), [])
    week = x.weekly(ORG, EAST, D("2026-09-07"))
    x.eq(
        "week of 2026-09-07",
        pick(week, "code_generations", "code_acceptances", "acceptance_rate", "days_with_data"),
        {"code_generations": 300, "code_acceptances": 80, "acceptance_rate": 80 / 300, "days_with_data": 3},
    )
    anomalies = x.rows(
        "fct_copilot_data_quality",
        "select scope_type, scope_name, day, check_name, severity, cast(fields as varchar) as fields, "
        "cast(observed_values as varchar) as observed_values from marts.fct_copilot_data_quality "
        "where check_name = 'active_users_order'",
    )
    if anomalies is not None:
        x.eq(
            "active_users_order anomalies (scope, day, severity)",
            sorted(
                (
                    r["scope_type"],
                    r["scope_name"],
                    r["day"],
                    "warn" if r["severity"] == "warning" else r["severity"],
                )
                for r in anomalies
            ),
            [(ORG, EAST, D("2026-09-08"), "warn")],
        )
        for r in anomalies:
            x.true(
                "the anomaly names both fields",
                {"weekly_active_users", "monthly_active_users"}
                <= set(re.findall(r"\w+_active_users", r["fields"] or "")),
                r["fields"],
            )
            shown = re.findall(r"(\w+_active_users)\W{1,4}(\d+)", r["observed_values"] or "")
            x.eq(
                "the anomaly's observed weekly and monthly values",
                pick({k: int(v) for k, v in shown}, "weekly_active_users", "monthly_active_users"),
                {"weekly_active_users": 4, "monthly_active_users": 3},
            )
    # the run summary names the anomaly (scope, day and check or fields), not only dbt's test name
    named = [
        ln for ln in run.output.splitlines() if EAST in ln and "2026-09-08" in ln and "active_users" in ln
    ]
    # leave out dbt's own console lines and log records (both start with a time)
    dbt_log = re.compile(r"^(\x1b\[[0-9;]*m)*(\d\d:\d\d:\d\d |\d{4}-\d\d-\d\dT)")
    summary = [ln.strip() for ln in run.output.splitlines() if ln.strip() and not dbt_log.match(ln)]
    x.true("the run summary names the anomaly (fc-org-east, 2026-09-08)", bool(named), summary)
    x.no_failed_partitions()
    x.done()


# --- the host's time zone does not matter ---------------------------------------------------------
TZ_CASE = "case09"
_TZ_RUNNER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    print("utc-offset-seconds", time.localtime(1788220800).tm_gmtoff, flush=True)  # 2026-09-01
    sys.path.insert(0, sys.argv[1])
    from test_field_cases import run_case
    run = run_case(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    if run.error:
        sys.exit("pipeline failed: " + run.error)
    """
)


def _raw_partitions(warehouse: Path) -> list[tuple]:
    con = wh.connect(warehouse, read_only=True)
    try:
        return con.execute(
            "select scope_type, scope_name, report, day, status, records from raw.ingest_log order by all"
        ).fetchall()
    finally:
        con.close()


def test_results_do_not_depend_on_the_host_time_zone(case_run, tmp_path):
    """The same case under TZ=America/Los_Angeles and TZ=Asia/Kolkata gives the same marts."""
    reference = case_run(TZ_CASE)
    assert reference.error is None, reference.error
    snapshots = {"host": make_run.snapshot_marts(reference.warehouse)}
    partitions = {"host": _raw_partitions(reference.warehouse)}
    offsets = {"America/Los_Angeles": -7 * 3600, "Asia/Kolkata": 5 * 3600 + 1800}  # on 2026-09-01
    for tz in ("America/Los_Angeles", "Asia/Kolkata"):
        workdir = tmp_path / tz.replace("/", "-")
        workdir.mkdir()
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _TZ_RUNNER,
                str(TESTS_DIR),
                TZ_CASE,
                str(workdir),
                str(tmp_path / "dbt-target"),
            ],
            env={**os.environ, "TZ": tz},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, f"TZ={tz}: {proc.stderr[-3000:]}"
        # the zone really applied (a host without tzdata would silently run in UTC)
        assert f"utc-offset-seconds {offsets[tz]}" in proc.stdout, proc.stdout[:300]
        snapshots[tz] = make_run.snapshot_marts(workdir / "warehouse.duckdb")
        partitions[tz] = _raw_partitions(workdir / "warehouse.duckdb")
    assert snapshots["host"]["fct_copilot_usage_daily"], "the reference run built no daily rows"
    for tz in ("America/Los_Angeles", "Asia/Kolkata"):
        assert partitions[tz] == partitions["host"], f"TZ={tz}: raw.ingest_log partitions differ"
        assert set(snapshots[tz]) == set(snapshots["host"]), f"TZ={tz}: other marts"
        differ = [t for t in snapshots["host"] if snapshots[tz][t] != snapshots["host"][t]]
        assert not differ, f"TZ={tz}: marts differ from the host's run: {differ}: " + json.dumps(
            {t: [repr(r) for r in set(snapshots[tz][t]) ^ set(snapshots["host"][t])][:6] for t in differ}
        )


# --- case15 and case14's cloud-agent counts: pull requests and agent users --------------------------
def test_case15_pull_request_medians_are_null_without_merges_and_never_summed(case_run):
    run = case_run("case15")
    x = Expect(run)
    daily = {
        r["day"]: r
        for r in x.rows(
            "fct_copilot_pull_requests_daily",
            "select * from marts.fct_copilot_pull_requests_daily where scope_type = ? and scope_name = ?",
            [ORG, EAST],
        )
        or []
    }
    cols = ("pull_requests_created", "pull_requests_merged", "median_minutes_to_merge")
    x.eq("09-09", pick(daily.get(D("2026-09-09"), {}), *cols), dict(zip(cols, (3, 0, None), strict=True)))
    x.eq("09-08 median", daily.get(D("2026-09-08"), {}).get("median_minutes_to_merge"), 120.0)
    x.eq("09-10 median", daily.get(D("2026-09-10"), {}).get("median_minutes_to_merge"), 600.0)
    x.eq(
        "09-09 Copilot medians",
        pick(
            daily.get(D("2026-09-09"), {}),
            "median_minutes_to_merge_copilot_authored",
            "median_minutes_to_merge_copilot_reviewed",
        ),
        {"median_minutes_to_merge_copilot_authored": None, "median_minutes_to_merge_copilot_reviewed": None},
    )
    weekly = x.rows(
        "fct_copilot_pull_requests_weekly",
        "select * from marts.fct_copilot_pull_requests_weekly "
        "where scope_type = ? and scope_name = ? and week_start = ?",
        [ORG, EAST, D("2026-09-07")],
    )
    week = weekly[0] if weekly else {}
    counts = ("pull_requests_created", "pull_requests_reviewed", "pull_requests_merged", "days_with_data")
    x.eq("week of 2026-09-07", pick(week, *counts), dict(zip(counts, (18, 15, 10, 3), strict=True)))
    # never a sum (720) or a mean counting the empty day (240): merge-weighted (8*120 + 2*600) / 10
    x.eq("weekly median (approximate, merge-weighted)", week.get("median_minutes_to_merge_approx"), 216.0)
    x.eq(
        "weekly Copilot medians (approximate)",
        pick(
            week,
            "median_minutes_to_merge_copilot_authored_approx",
            "median_minutes_to_merge_copilot_reviewed_approx",
        ),
        # authored: 1 merge at 45; reviewed: (4*120 + 1*600) / 5
        {
            "median_minutes_to_merge_copilot_authored_approx": 45.0,
            "median_minutes_to_merge_copilot_reviewed_approx": 216.0,
        },
    )
    x.eq(
        "weekly applied suggestion rates (ratios of sums)",
        pick(week, "applied_suggestion_rate", "copilot_applied_suggestion_rate"),
        {"applied_suggestion_rate": 0.5, "copilot_applied_suggestion_rate": 0.0},
    )
    x.no_failed_partitions()
    x.done()


def test_case14_a_null_cloud_agent_count_stays_unknown(case_run):
    run = case_run("case14")
    x = Expect(run)
    rows = x.rows(
        "fct_copilot_agent_users_daily",
        "select day, daily_active_copilot_cloud_agent_users from marts.fct_copilot_agent_users_daily "
        "where scope_type = ? and scope_name = ? order by day",
        [ORG, EAST],
    )
    x.eq(
        "cloud-agent daily users",
        [(r["day"], r["daily_active_copilot_cloud_agent_users"]) for r in rows or []],
        [(D("2026-09-08"), 1), (D("2026-09-09"), 0), (D("2026-09-10"), None)],
    )
    x.done()


# --- case11, case14 (CLI part) and case13 (credit marts): Copilot CLI, desktop app and AI credits ---
def _cli_daily(x: Expect, scope_name: str) -> dict[date, dict[str, Any]]:
    rows = x.rows(
        "fct_copilot_cli_daily",
        "select * from marts.fct_copilot_cli_daily where scope_type = ? and scope_name = ? order by day",
        [ORG, scope_name],
    )
    return {r["day"]: r for r in rows or []}


def test_case11_desktop_app_and_cli_are_kept_apart_and_people_count_once(case_run):
    run = case_run("case11")
    x = Expect(run)
    daily = _cli_daily(x, EAST)
    cli = ("daily_active_cli_users", "cli_requests", "cli_prompts", "cli_sessions")
    app = ("daily_active_copilot_app_users", "app_requests")
    x.eq(
        "CLI per day (users, requests, prompts, sessions)",
        {d: tuple(r[c] for c in cli) for d, r in daily.items()},
        {D("2026-09-15"): (1, 30, 5, 2), D("2026-09-16"): (1, 45, 7, 3)},
    )
    x.eq(
        "desktop app per day (users, requests)",
        {d: tuple(r[c] for c in app) for d, r in daily.items()},
        {D("2026-09-15"): (1, 30), D("2026-09-16"): (0, 0)},
    )
    x.eq(
        "CLI-or-app users per day (never 2)",
        {d: r["cli_or_app_users"] for d, r in daily.items()},
        {D("2026-09-15"): 1, D("2026-09-16"): 1},
    )
    columns = x.rows(
        "fct_copilot_cli_daily columns",
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'fct_copilot_cli_daily'",
    )
    names = {r["column_name"] for r in columns or []}
    combined = sorted(n for n in names if "request" in n and "cli" in n and "app" in n)
    x.eq("no combined CLI + app request column", combined, [])
    x.true(
        "no value of 60 requests on 09-15",
        60 not in [v for k, v in daily.get(D("2026-09-15"), {}).items() if "request" in k],
        daily.get(D("2026-09-15")),
    )
    week = x.rows(
        "fct_copilot_cli_weekly",
        "select * from marts.fct_copilot_cli_weekly where scope_type = ? and scope_name = ?",
        [ORG, EAST],
    )
    x.eq(
        "week of 2026-09-14",
        [
            pick(
                r, "week_start", "cli_requests", "app_requests", "cli_users", "app_users", "cli_or_app_users"
            )
            for r in week or []
        ],
        [
            {
                "week_start": D("2026-09-14"),
                "cli_requests": 75,
                "app_requests": 30,
                "cli_users": 1,
                "app_users": 1,
                "cli_or_app_users": 1,
            }
        ],
    )
    x.no_failed_partitions()
    x.done()


def test_case14_an_absent_cli_block_is_zero_and_tokens_per_request_is_a_ratio_of_sums(case_run):
    run = case_run("case14")
    x = Expect(run)
    daily = _cli_daily(x, EAST)
    x.eq(
        "CLI daily users and requests",
        {d: (r["daily_active_cli_users"], r["cli_requests"]) for d, r in daily.items()},
        {D("2026-09-08"): (2, 60), D("2026-09-09"): (0, 0), D("2026-09-10"): (1, 5)},
    )
    x.eq(
        "no users report: CLI-or-app users unknown",
        {d: r["cli_or_app_users"] for d, r in daily.items()},
        {D("2026-09-08"): None, D("2026-09-09"): None, D("2026-09-10"): None},
    )
    week = x.rows(
        "fct_copilot_cli_weekly",
        "select * from marts.fct_copilot_cli_weekly "
        "where scope_type = ? and scope_name = ? and week_start = ?",
        [ORG, EAST, D("2026-09-07")],
    )
    x.eq(
        "week of 2026-09-07",
        pick(
            (week or [{}])[0],
            "cli_requests",
            "cli_prompts",
            "cli_sessions",
            "cli_tokens_per_request",
            "days_with_data",
        ),
        {
            "cli_requests": 65,
            "cli_prompts": 11,
            "cli_sessions": 5,
            "cli_tokens_per_request": 112000 / 65,  # 1723.08: a ratio of sums, not 1850
            "days_with_data": 3,
        },
    )
    x.done()


def test_case13_credit_marts_keep_decimals_estimate_cost_and_allocate_exactly(case_run):
    run = case_run("case13")
    x = Expect(run)
    daily = x.rows(
        "fct_copilot_ai_credits_daily",
        "select day, ai_credits_used, members_with_credits, members_reporting_credits, estimated_cost_usd, "
        "price_per_ai_credit_usd from marts.fct_copilot_ai_credits_daily where scope_name = ? order by day",
        [EAST],
    )
    x.eq(
        "credits per day (credits, members with credits, members reporting, cost at 0.04)",
        {
            r["day"]: (
                r["ai_credits_used"],
                r["members_with_credits"],
                r["members_reporting_credits"],
                r["estimated_cost_usd"],
            )
            for r in daily or []
        },
        {D("2026-09-08"): (6.75, 2, 2, 6.75 * 0.04), D("2026-09-09"): (0.0, 0, 1, 0.0)},
    )
    x.eq("default price per credit", sorted({r["price_per_ai_credit_usd"] for r in daily or []}), [0.04])
    members = x.rows(
        "fct_copilot_ai_credits_member_weekly",
        "select user_login, ai_credits_used, days_with_credits, estimated_cost_usd "
        "from marts.fct_copilot_ai_credits_member_weekly where scope_name = ? and week_start = ?",
        [EAST, D("2026-09-07")],
    )
    x.eq(
        "member credits in the week of 2026-09-07 (credits, days with credits)",
        {r["user_login"]: (r["ai_credits_used"], r["days_with_credits"]) for r in members or []},
        {"user-amber": (4.5, 1), "user-birch": (2.25, 1)},
    )
    weekly = x.rows(
        "fct_copilot_ai_credits_weekly",
        "select ai_credits_used, members_with_credits from marts.fct_copilot_ai_credits_weekly "
        "where scope_name = ? and week_start = ?",
        [EAST, D("2026-09-07")],
    )
    x.eq("week of 2026-09-07", weekly, [{"ai_credits_used": 6.75, "members_with_credits": 2}])
    # no model prompts on either member-day: all credits unattributed, and the allocation adds up
    by_model = x.rows(
        "fct_copilot_ai_credits_by_model_daily",
        "select day, model, cast(allocated_ai_credits as double) as credits, members "
        "from marts.fct_copilot_ai_credits_by_model_daily where scope_name = ? order by day, model",
        [EAST],
    )
    x.eq(
        "credits by model (allocated estimate)",
        [(r["day"], r["model"], r["credits"], r["members"]) for r in by_model or []],
        [(D("2026-09-08"), "unattributed", 6.75, 2)],
    )
    x.done()
