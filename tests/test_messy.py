"""The pipeline on the messy simulator: what real GitHub data looks like, through the real DAGs.

The simulator's messy mode (``SimulatorConfig(messy=True)``) serves restated days, renamed logins,
null and Team-shaped seat assignees, timestamps with non-UTC offsets, inconsistent active counts,
a report not offered for one org, empty 200 answers and users reports whose aggregate day is late.
Its manifest says what it served; every assertion below is computed from that manifest and the
simulator's (final) records, never hard-coded.

Two ingest runs over the same range (the second one is the re-pull every scheduled run does) and
their transforms, through ``airflow dags test`` as ``make run`` runs them; then ``make run``'s own
command on the messy simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from copilot_dev import airflow_env
from copilot_dev import run as make_run
from copilot_dev.simulator import SimulatorConfig, SimulatorServer
from copilot_warehouse import warehouse as wh
from copilot_warehouse.config import Scope

pytestmark = pytest.mark.integration

START, END = date(2026, 11, 2), date(2026, 11, 15)  # two ISO weeks: every oddity occurs
TOKEN = "sim-token"


def _in_range(event: dict) -> bool:
    return event["day"] is None or START <= date.fromisoformat(event["day"]) <= END


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = wh.connect(path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _clean_base() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "COPILOT_"))}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    config = SimulatorConfig(messy=True)
    with SimulatorServer(config) as server:
        env = airflow_env.build_env(
            home=root / "airflow",
            connection=airflow_env.connection_json(server.url, TOKEN),
            orgs=list(config.orgs),
            enterprises=list(config.enterprises),
            warehouse=root / "warehouse.duckdb",
            landing=root / "landing",
            base=_clean_base(),
        )
        env["COPILOT_TASK_RETRY_DELAY_SECONDS"] = "1"
        airflow_env.prepare(env)
        db = root / "warehouse.duckdb"
        make_run.run_pipeline(env, START, END, log_dir=root / "logs" / "first")
        after_first = _query(
            db, "select scope_name, day, code_generations from marts.fct_copilot_usage_daily"
        )
        make_run.run_pipeline(env, START, END, log_dir=root / "logs" / "rerun")
        yield {
            "db": db,
            "dataset": server.dataset,
            "events": [e for e in server.dataset.messy_manifest()["events"] if _in_range(e)],
            "after_first": {(s, d): g for s, d, g in after_first},
            "logs": {
                tag: "\n".join(p.read_text(errors="replace") for p in (root / "logs" / tag).glob("*.log"))
                for tag in ("first", "rerun")
            },
            "requests": list(server.requests),
        }


def _events(messy, kind: str) -> list[dict]:
    found = [e for e in messy["events"] if e["kind"] == kind]
    assert found, f"the messy simulator served no {kind} in {START}..{END}"
    return found


def test_both_runs_succeed_and_build_every_mart_with_no_failed_partition(messy):
    marts = {
        t
        for (t,) in _query(
            messy["db"], "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert {
        "fct_copilot_usage_daily",
        "fct_copilot_acceptance_weekly",
        "fct_copilot_acceptance_weekly_by_dimension",
        "fct_copilot_usage_monthly",
        "fct_copilot_seat_utilisation_weekly",
        "fct_copilot_member_summary",
        "fct_copilot_data_quality",
        "fct_copilot_data_health",
    } <= marts
    assert _query(messy["db"], "select count(*) from raw.ingest_log where status = 'failed'") == [(0,)]
    weeks = _query(messy["db"], "select count(distinct week_start) from marts.fct_copilot_acceptance_weekly")
    assert weeks == [(2,)]


def test_a_restated_day_shows_what_github_served_last(messy):
    for event in _events(messy, "restated_day"):
        if event["report"] != "organization-1-day":
            continue
        scope, day = Scope("organization", event["scope"]), date.fromisoformat(event["day"])
        first = event["values"]["versions"]["1"]["code_generation_activity_count"]
        assert messy["after_first"][(scope.name, day)] == first  # the first fetch got version 1
        final = messy["dataset"].aggregate(scope, day)["code_generation_activity_count"]
        assert first != final
        assert _query(
            messy["db"],
            "select code_generations from marts.fct_copilot_usage_daily where scope_name = ? and day = ?",
            [scope.name, day],
        ) == [(final,)]
        members = _query(
            messy["db"],
            "select sum(code_generations), count(*) filter (where is_active) "
            "from marts.fct_copilot_member_daily where scope_name = ? and day = ?",
            [scope.name, day],
        )
        users = messy["dataset"].users(scope, day)
        assert members == [(sum(u["code_generation_activity_count"] for u in users), len(users))]


def test_a_renamed_login_is_one_member_under_the_newest_login(messy):
    for event in _events(messy, "renamed_login"):
        values = event["values"]
        rows = _query(
            messy["db"],
            "select user_login from marts.fct_copilot_member_summary where scope_name = ? and user_id = ?",
            [event["scope"], values["user_id"]],
        )
        assert rows == [(values["new_login"],)], event


def test_null_and_team_seat_assignees_are_seat_rows_never_members(messy):
    for kind, assignee_type in (("seat_assignee_null", "none"), ("seat_assignee_team", "team")):
        for event in _events(messy, kind):
            rows = _query(
                messy["db"],
                "select user_id from marts.dim_copilot_seats where scope_name = ? and assignee_type = ?",
                [event["scope"], assignee_type],
            )
            assert rows == [(None,)], event
    for scope_name, members, seats in _query(
        messy["db"],
        "select d.scope_name, d.total_seats, (select count(*) from marts.dim_copilot_seats s "
        "where s.scope_name = d.scope_name and s.scope_type = d.scope_type and s.assignee_type = 'user') "
        "from marts.fct_copilot_data_health d where d.total_seats is not null",
    ):
        assert members == seats, scope_name  # GitHub's total_seats counts the people holding a seat
    assert _query(
        messy["db"], "select count(*) from marts.fct_copilot_member_summary where user_id is null"
    ) == [(0,)]


def test_timestamps_with_offsets_are_the_same_utc_instant(messy):
    checked = 0
    for event in _events(messy, "offset_timestamps"):
        # an enterprise listing repeats a member once per granting org (the mart keeps the newest
        # activity of them), so the instant is checked on the organizations' listings
        if (
            event["report"] != "seats"
            or event["scope_type"] != "organization"
            or "last_activity_at" not in event["values"]["fields"]
        ):
            continue
        want = datetime.fromisoformat(
            event["values"]["fields"]["last_activity_at"]["utc"].replace("Z", "+00:00")
        )
        [(got,)] = _query(
            messy["db"],
            "select last_activity_at from marts.dim_copilot_seats where scope_type = ? and scope_name = ? "
            "and user_id = ?",
            [event["scope_type"], event["scope"], event["values"]["user_id"]],
        )
        assert got == want, event
        checked += 1
    assert checked


def test_inconsistent_active_counts_are_reported_not_fatal(messy):
    found = set(
        _query(
            messy["db"],
            "select scope_name, day from marts.fct_copilot_data_quality "
            "where check_name = 'active_users_order'",
        )
    )
    for event in _events(messy, "inconsistent_actives"):
        key = (event["scope"], date.fromisoformat(event["day"]))
        assert key in found, event
        # the day is still in the daily mart, with GitHub's values as sent
        served = event["values"]["served"]
        assert _query(
            messy["db"],
            "select daily_active_users, weekly_active_users from marts.fct_copilot_usage_daily "
            "where scope_name = ? and day = ?",
            list(key),
        ) == [(served["daily_active_users"], served["weekly_active_users"])]
        assert f"source anomaly: organization:{key[0]} {key[1]} active_users_order" in messy["logs"]["rerun"]


def test_a_report_not_offered_is_said_once_and_not_asked_again_today(messy):
    [event] = _events(messy, "report_unavailable")
    scope, report = event["scope"], event["report"]
    asked = [r for r in messy["requests"] if r[1] == f"/orgs/{scope}/copilot/metrics/reports/{report}"]
    assert len(asked) == 1  # its newest day in the first run; the rerun knew it already
    assert (
        f"organization:{scope} {report}: not offered for this organization (HTTP 404)"
        in messy["logs"]["first"]
    )
    [(unavailable, failed)] = _query(
        messy["db"],
        "select unavailable_reports, days_failed from marts.fct_copilot_data_health where scope_name = ?",
        [scope],
    )
    assert report in unavailable and failed == 0
    assert _query(
        messy["db"], "select count(*) from marts.fct_copilot_partition_status where status = 'failed'"
    ) == [(0,)]


def test_empty_answers_and_late_aggregates_are_no_report_yet(messy):
    empty = {(e["scope"], e["report"], e["day"]) for e in _events(messy, "empty_200")}
    status = dict(
        ((s, r, d.isoformat()), st)
        for s, r, d, st in _query(
            messy["db"], "select scope_name, report, day, status from marts.fct_copilot_partition_status"
        )
    )
    for key in empty:
        assert status[key] == "no_report", key
    quality = set(
        _query(
            messy["db"],
            "select scope_name, day from marts.fct_copilot_data_quality "
            "where check_name = 'users_without_aggregate'",
        )
    )
    for event in _events(messy, "aggregate_late"):
        scope, day = event["scope"], date.fromisoformat(event["day"])
        assert (scope, day) in quality, event
        assert _query(
            messy["db"],
            "select count(*) from marts.fct_copilot_usage_daily where scope_name = ? and day = ?",
            [scope, day],
        ) == [(0,)]
        assert _query(
            messy["db"],
            "select count(*) filter (where is_active) from marts.fct_copilot_member_daily "
            "where scope_name = ? and day = ?",
            [scope, day],
        ) == [(event["values"]["users_records"],)]


def test_make_run_on_the_messy_simulator(tmp_path):
    """``python -m copilot_dev run`` (what ``make run`` calls) on messy data: exit 0."""
    env = {
        **_clean_base(),
        "COPILOT_SIMULATOR_MESSY": "1",
        "START_DAY": "2026-11-09",
        "END_DAY": "2026-11-15",
        "COPILOT_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "COPILOT_LANDING_PATH": str(tmp_path / "landing"),
        "COPILOT_TASK_RETRY_DELAY_SECONDS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "copilot_dev", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "organization:acme-labs repos-1-day: not offered for this organization" in out
    assert "source anomaly: organization:octo-demo 2026-11-10 active_users_order" in out
    assert "marts.fct_copilot_acceptance_weekly" in out and "Report:" in out


def test_the_report_names_a_report_github_does_not_offer(messy, tmp_path):
    # the Repositories panel of a scope without repos-1-day says why it is empty
    from copilot_warehouse.serve.report import build_report

    [event] = _events(messy, "report_unavailable")
    html = build_report(messy["db"], tmp_path / "report").read_text(encoding="utf-8")
    assert f"{event['report']} is not offered for this organization (GitHub answered 404)" in html
