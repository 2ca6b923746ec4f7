"""``make backfill``: chunked runs equal one run, each partition is asked for once, kill -9 loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date

import pytest
from copilot_dev import airflow_env
from copilot_dev import run as make_run
from copilot_warehouse import config
from copilot_warehouse import warehouse as wh
from copilot_warehouse.pipeline import backfill, ingest

pytestmark = pytest.mark.integration

START, END = date(2026, 10, 20), date(2026, 11, 18)  # 30 days


def _source(server) -> backfill.Source:
    cfg = server.config
    return backfill.Source(
        connection=airflow_env.connection_json(server.url, cfg.token),
        orgs=list(cfg.orgs),
        enterprises=list(cfg.enterprises),
        start=START,
        end=END,
        label="test simulator",
    )


def _report_calls(server) -> int:
    """Daily report calls (the availability probe asks for a 28-day ``/latest`` report; not counted)."""
    return sum(
        1
        for _m, path, _s in server.requests
        if "/copilot/metrics/reports/" in path and not path.endswith("/latest")
    )


@pytest.fixture(scope="module")
def backfills(tmp_path_factory):
    """The same 30 days backfilled twice: in 7-day chunks, and in one chunk."""
    from copilot_dev.simulator import SimulatorConfig, SimulatorServer

    root = tmp_path_factory.mktemp("backfill")
    with pytest.MonkeyPatch.context() as mp, SimulatorServer(SimulatorConfig(users_per_org=15)) as server:
        mp.setenv("AIRFLOW_CONN_GITHUB_COPILOT", "{}")  # restored afterwards; the backfill sets its own
        out = {}
        for name, chunk in (("chunked", 7), ("whole", 30)):
            before = _report_calls(server)
            totals = backfill.backfill_range(
                _source(server),
                chunk_days=chunk,
                warehouse=root / name / "warehouse.duckdb",
                landing_root=str(root / name / "landing"),
            )
            out[name] = {
                "totals": totals,
                "calls": _report_calls(server) - before,
                "marts": make_run.snapshot_marts(root / name / "warehouse.duckdb"),
            }
        yield out


def test_chunked_backfill_gives_the_same_marts_as_one_run(backfills):
    chunked, whole = backfills["chunked"], backfills["whole"]
    assert chunked["totals"]["chunks"] == 5 and whole["totals"]["chunks"] == 1
    assert chunked["marts"]["fct_copilot_usage_daily"], "the backfill built no daily rows"
    assert set(chunked["marts"]) == set(whole["marts"])
    for table in chunked["marts"]:
        assert chunked["marts"][table] == whole["marts"][table], f"marts.{table} differs"


def test_each_scope_report_day_is_asked_for_exactly_once(backfills):
    scopes = [config.Scope(config.ORGANIZATION, o) for o in ("octo-demo", "acme-labs")] + [
        config.Scope(config.ENTERPRISE, "octo-enterprise")
    ]
    expected = 30 * sum(len(config.DAILY_REPORTS[s.type]) for s in scopes)
    assert backfills["chunked"]["calls"] == expected
    assert backfills["whole"]["calls"] == expected
    assert backfills["chunked"]["totals"]["partitions"] >= expected  # + the seats snapshots
    assert backfills["chunked"]["totals"]["failed"] == 0


def test_the_backfill_counts_every_request_through_one_bounded_client(backfills):
    for run in backfills.values():
        totals = run["totals"]
        assert totals["max_connections"] == config.max_connections()
        requests = totals["requests"]
        # every report call and download, the probes, seats and 28-day reports: one client
        assert requests["requests"] > run["calls"]
        assert (requests["retries"], requests["retried_requests"], requests["retries_by_cause"]) == (0, 0, {})


_LOADER = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s", force=True)
    from copilot_warehouse.pipeline import backfill, ingest
    root, path = sys.argv[1], sys.argv[2]
    ingest.load_receipts(ingest.landed_receipts(root), path, root)
    print("LOADER DONE", flush=True)
    """
)


def _raw_counts(path) -> dict[tuple, int]:
    con = wh.connect(path)
    try:
        out = {}
        for table in sorted({t for t, _ in wh.REPORT_TABLES.values()}):
            for scope_type, scope_name, report, day, n in con.execute(
                f"select scope_type, scope_name, report, day, count(*) from {table} group by all"
            ).fetchall():
                out[(table, scope_type, scope_name, report, day)] = n
        return out
    finally:
        con.close()


def _loaded_log(path) -> dict[tuple, int]:
    con = wh.connect(path)
    try:
        rows = con.execute(
            """
            select scope_type, scope_name, report, day, status, records from raw.ingest_log
            qualify row_number() over (
                partition by scope_type, scope_name, report, day order by finished_at desc) = 1
            """
        ).fetchall()
        return {(t, n, r, d): rec for t, n, r, d, status, rec in rows if status == "loaded"}
    finally:
        con.close()


def test_loader_killed_mid_way_leaves_a_consistent_warehouse_and_the_next_run_completes(tmp_path, simulator):
    landing, killed, clean = str(tmp_path / "landing"), tmp_path / "killed.duckdb", tmp_path / "clean.duckdb"
    from copilot_warehouse.extract.client import CopilotClient

    client = CopilotClient(simulator.url, simulator.config.token)
    for scope in (
        config.Scope(config.ORGANIZATION, "octo-demo"),
        config.Scope(config.ENTERPRISE, "octo-enterprise"),
    ):
        ingest.fetch_scope_days(client, scope, config.day_range(START, END), landing)
    total = len(ingest.landed_receipts(landing))

    proc = subprocess.Popen(
        [sys.executable, "-c", _LOADER, landing, str(killed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
    )
    loaded_lines = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if ": loaded, " in line:
            loaded_lines += 1
            if loaded_lines == 25:  # well inside the ~120 partitions
                os.kill(proc.pid, signal.SIGKILL)
                break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the loader finished before it could be killed"

    # Consistent: every partition the log calls loaded holds exactly its records, nothing else exists.
    counts, logged = _raw_counts(killed), _loaded_log(killed)
    assert 25 <= len(logged) < total
    partitions = {key[1:]: n for key, n in counts.items()}
    assert set(partitions) <= set(logged)
    for key, records in logged.items():
        assert partitions.get(key, 0) == records, key

    # The next run completes it, identical to a load that was never interrupted.
    ingest.load_receipts(ingest.landed_receipts(landing), killed, landing)
    ingest.load_receipts(ingest.landed_receipts(landing), clean, landing)
    assert _raw_counts(killed) == _raw_counts(clean)
    assert len(_loaded_log(killed)) == total
