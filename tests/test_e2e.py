"""End to end: the real simulator, real ``airflow dags test`` of both DAGs, a real DuckDB file and dbt.

One pipeline run (module-scoped) is shared by the assertions: mart figures against figures computed
independently from the simulator's records, a rerun of the same range leaving every mart unchanged,
and no token or signed-URL signature in task logs, XCom, landing files or any warehouse column.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from copilot_dev import airflow_env
from copilot_dev import run as make_run
from copilot_dev.simulator import SimulatorConfig, SimulatorServer
from copilot_warehouse import config
from copilot_warehouse import warehouse as wh
from harness.duck import schema_rows
from harness.files import content

pytestmark = pytest.mark.integration

START, END = date(2026, 11, 2), date(2026, 11, 15)  # two full ISO weeks (Monday to Sunday)
GHOST_ORG = "ghost-org"  # configured but unknown to the API: its scope must be skipped, not fail
TOKEN = "ghp_" + "E2eSecretTokenValue0123456789abcdefXY"  # GitHub's token shape, found by the redactor
# Columns that record *when* something was loaded/built, or how many fetch attempts a partition
# has had (fct_copilot_partition_status counts them by design); they change on a rerun.
VOLATILE_COLUMN = re.compile(
    r"(loaded_at|load_id|built_at|fetched_at|_run_at|generated_at|finished_at|attempts|attempt_at)$"
)


def _run_pipeline(env: dict[str, str], log_dir: Path, tag: str) -> None:
    make_run.run_dag(
        env,
        "copilot_usage_ingest",
        {"start_day": START.isoformat(), "end_day": END.isoformat()},
        log_dir=log_dir / tag,
    )
    make_run.run_dag(env, "copilot_usage_transform", log_dir=log_dir / tag)


def _snapshot_marts(path: Path) -> dict[str, list[tuple]]:
    return schema_rows(path, "marts", VOLATILE_COLUMN.search)


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """Run both DAGs once over START..END against a simulator; then once more (the rerun)."""
    root = tmp_path_factory.mktemp("e2e")
    sim_config = SimulatorConfig(
        token=TOKEN, start_day=START - timedelta(days=7), end_day=END + timedelta(days=3)
    )
    with SimulatorServer(sim_config) as server:
        issued: list[str] = []
        make_link = server.make_link

        def recording_make_link(*args, **kwargs):  # remember every signature the server hands out
            url = make_link(*args, **kwargs)
            issued.append(url.rsplit("signature=", 1)[1])
            return url

        server.make_link = recording_make_link
        env = airflow_env.build_env(
            home=root / "airflow",
            connection=airflow_env.connection_json(server.url, TOKEN),
            orgs=[*sim_config.orgs, GHOST_ORG],
            enterprises=list(sim_config.enterprises),
            warehouse=root / "warehouse.duckdb",
            landing=root / "landing",
            base={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        )
        env["COPILOT_TASK_RETRY_DELAY_SECONDS"] = "2"
        airflow_env.prepare(env)
        _run_pipeline(env, root / "logs", "first")
        first = _snapshot_marts(root / "warehouse.duckdb")
        _run_pipeline(env, root / "logs", "rerun")
        second = _snapshot_marts(root / "warehouse.duckdb")
        yield {
            "root": root,
            "env": env,
            "dataset": server.dataset,
            "config": sim_config,
            "first": first,
            "second": second,
            "issued": issued,
            "requests": list(server.requests),
        }


def _query(e2e, sql: str, params: list | None = None) -> list[tuple]:
    con = wh.connect(e2e["root"] / "warehouse.duckdb", read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _scopes(e2e) -> list[config.Scope]:
    cfg = e2e["config"]
    return [config.Scope(config.ORGANIZATION, o) for o in cfg.orgs] + [
        config.Scope(config.ENTERPRISE, e) for e in cfg.enterprises
    ]


def test_daily_mart_matches_the_simulator_records(e2e):
    dataset = e2e["dataset"]
    rows = _query(
        e2e,
        "select scope_type, scope_name, day, daily_active_users, code_generations, code_acceptances, "
        "acceptance_rate from marts.fct_copilot_usage_daily where day between ? and ?",
        [START, END],
    )
    got = {(t, n, d): (dau, gen, acc, rate) for t, n, d, dau, gen, acc, rate in rows}
    expected = {}
    for scope in _scopes(e2e):
        for day in config.day_range(START, END):
            record = dataset.aggregate(scope, day)
            gen, acc = record["code_generation_activity_count"], record["code_acceptance_activity_count"]
            expected[(scope.type, scope.name, day)] = (
                record["daily_active_users"],
                gen,
                acc,
                pytest.approx(acc / gen) if gen else None,
            )
    assert got == expected


def _is_active(user: dict) -> bool:
    counters = (
        v
        for k, v in user.items()
        if isinstance(v, int | float)
        and not isinstance(v, bool)
        and k not in ("user_id",)
        and not k.endswith("_id")
    )
    flags = (v for k, v in user.items() if k.startswith("used_") and v is True)
    return any(v > 0 for v in counters) or any(flags)


def test_weekly_acceptance_is_a_ratio_of_sums_with_distinct_active_users(e2e):
    dataset = e2e["dataset"]
    expected = {}
    for scope in _scopes(e2e):
        weeks: dict[date, dict] = defaultdict(lambda: {"gen": 0, "acc": 0, "users": set(), "days": 0})
        for day in config.day_range(START, END):
            week = day - timedelta(days=day.weekday())
            record = dataset.aggregate(scope, day)
            w = weeks[week]
            w["gen"] += record["code_generation_activity_count"]
            w["acc"] += record["code_acceptance_activity_count"]
            w["days"] += 1
            w["users"] |= {u["user_id"] for u in dataset.users(scope, day) if _is_active(u)}
        for week, w in weeks.items():
            expected[(scope.type, scope.name, week)] = (
                w["days"],
                w["gen"],
                w["acc"],
                pytest.approx(w["acc"] / w["gen"]),
                len(w["users"]),
            )
    rows = _query(
        e2e,
        "select scope_type, scope_name, week_start, days_with_data, code_generations, code_acceptances, "
        "acceptance_rate, active_users from marts.fct_copilot_acceptance_weekly "
        "where week_start between ? and ?",
        [START, END],
    )
    got = {(t, n, w): (days, gen, acc, rate, users) for t, n, w, days, gen, acc, rate, users in rows}
    assert got == expected
    first_weeks = {
        k: v
        for k, v in _query(
            e2e,
            "select scope_name, acceptance_rate_change from marts.fct_copilot_acceptance_weekly "
            "where week_start = ? and scope_type = 'organization'",
            [START + timedelta(days=7)],
        )
    }
    for org in e2e["config"].orgs:  # change = this week's rate minus the previous week's
        this = expected[(config.ORGANIZATION, org, START + timedelta(days=7))]
        prev = expected[(config.ORGANIZATION, org, START)]
        assert first_weeks[org] == pytest.approx(this[2] / this[1] - prev[2] / prev[1])


def test_every_partition_was_asked_for_once_per_run(e2e):
    reports = [r for r in e2e["requests"] if "/copilot/metrics/reports/" in r[1] and r[2] in (200, 204)]
    per_path = defaultdict(int)
    for _method, path, _status in reports:
        per_path[path] += 1
    n_days = (END - START).days + 1
    expected_calls = 2 * n_days * sum(len(config.DAILY_REPORTS[s.type]) for s in _scopes(e2e))
    assert len(reports) >= expected_calls  # two runs over the range (+ any gap repair)
    loaded = _query(
        e2e,
        "select count(*) from raw.ingest_log where status = 'loaded' and day between ? and ?",
        [START, END],
    )[0][0]
    assert loaded >= n_days * sum(len(config.DAILY_REPORTS[s.type]) for s in _scopes(e2e))


def test_rerun_of_the_same_range_leaves_every_mart_unchanged(e2e):
    assert set(e2e["first"]) >= {
        "fct_copilot_usage_daily",
        "fct_copilot_acceptance_weekly",
        "fct_copilot_member_daily",
        "fct_copilot_member_summary",
    }
    assert all(e2e["first"][t] for t in ("fct_copilot_usage_daily", "fct_copilot_acceptance_weekly"))
    for table, rows in e2e["first"].items():
        assert e2e["second"][table] == rows, f"marts.{table} changed on a rerun of the same range"


def _artifact_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix not in (".duckdb", ".wal", ".db")]


def test_no_secret_in_logs_xcom_landing_or_warehouse(e2e):
    secrets = [TOKEN] + e2e["issued"]
    assert len(e2e["issued"]) > 50  # the runs really downloaded signed links
    # task logs (dags test output and Airflow's log folder), landing files, reports
    leaks = []
    for path in _artifact_files(e2e["root"]):
        text = content(path).decode("utf-8", errors="replace")  # .gz landing parts decompressed
        leaks += [f"{path}: {s[:8]}..." for s in secrets if s in text]
        if re.search(r"signature=[0-9a-f]{16,}", text):
            leaks.append(f"{path}: a signed URL query")
    # XCom in the Airflow metadata database
    con = sqlite3.connect(e2e["root"] / "airflow" / "airflow.db")
    try:
        xcoms = con.execute("select dag_id, task_id, key, cast(value as text) from xcom").fetchall()
    finally:
        con.close()
    assert xcoms, "the runs pushed no XCom at all"
    for dag_id, task_id, key, value in xcoms:
        leaks += [f"xcom {dag_id}.{task_id}.{key}" for s in secrets if s in (value or "")]
        if "signature=" in (value or "") or "?expires=" in (value or ""):
            leaks.append(f"xcom {dag_id}.{task_id}.{key}: a signed URL")
    # every column of every table in the warehouse
    con = wh.connect(e2e["root"] / "warehouse.duckdb", read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" where cast("{column}" as varchar) like ? '
                f'or cast("{column}" as varchar) like ? or cast("{column}" as varchar) like ?',
                [f"%{TOKEN}%", "%signature=%", "%expires=%"],
            ).fetchall()[0][0]
            if hits:
                leaks.append(f"{schema}.{table}.{column}: {hits} row(s)")
    finally:
        con.close()
    assert columns
    assert leaks == []


def test_run_summary_names_every_scope_and_report(e2e):
    log = (e2e["root"] / "logs" / "first" / "copilot_usage_ingest.log").read_text()
    for scope in _scopes(e2e):
        for report in config.DAILY_REPORTS[scope.type]:
            assert re.search(
                rf"{scope.label} {report}: {(END - START).days + 1} day\(s\) requested, "
                rf"{(END - START).days + 1} landed, \d+ retries, \d+ records loaded",
                log,
            ), f"no summary line for {scope.label} {report}"
    assert "newest report day" in log


def test_marts_cover_exactly_the_requested_range(e2e):
    assert _query(e2e, "select min(day), max(day) from marts.fct_copilot_usage_daily")[0] == (START, END)


def test_an_unavailable_org_is_skipped_with_its_reason_and_the_others_load(e2e):
    log = (e2e["root"] / "logs" / "first" / "copilot_usage_ingest.log").read_text()
    assert re.search(rf"organization:{GHOST_ORG}: skipped - \S.+", log)
    assert _query(e2e, "select count(*) from raw.ingest_log where scope_name = ?", [GHOST_ORG]) == [(0,)]
    loaded_orgs = {n for (n,) in _query(e2e, "select distinct scope_name from marts.fct_copilot_usage_daily")}
    assert loaded_orgs == {*e2e["config"].orgs, *e2e["config"].enterprises}


def test_summary_command_prints_marts_and_latest_weekly_rate_per_org(e2e):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["COPILOT_WAREHOUSE_PATH"] = str(e2e["root"] / "warehouse.duckdb")
    out = subprocess.run(
        [sys.executable, "-m", "copilot_warehouse", "summary"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert re.search(
        r"marts\.fct_copilot_usage_daily\s+" + str(3 * ((END - START).days + 1)) + r"\b", out.stdout
    )
    dataset, last_week = e2e["dataset"], END - timedelta(days=6)
    for org in e2e["config"].orgs:
        scope = config.Scope(config.ORGANIZATION, org)
        records = [dataset.aggregate(scope, d) for d in config.day_range(last_week, END)]
        acc = sum(r["code_acceptance_activity_count"] for r in records)
        gen = sum(r["code_generation_activity_count"] for r in records)
        rate = re.escape(f"{acc / gen:.1%}")
        completions = [
            e for r in records for e in r.get("totals_by_feature", []) if e["feature"] == "code_completion"
        ]
        added = sum(e["loc_added_sum"] for e in completions)
        by_lines = re.escape(f"{added / sum(e['loc_suggested_to_add_sum'] for e in completions):.1%}")
        line = rf"{org}\s+week of {last_week}\s+{rate}\s+\({acc}/{gen}, 7 day\(s\) of data\)"
        line += rf"\s+by lines {by_lines}"
        assert re.search(line, out.stdout), out.stdout
