"""``make airflow``: the local Airflow starts with the simulator, runs a triggered ingest, and stops.

Starts ``python -m copilot_dev airflow`` exactly as ``make airflow`` does (in a temporary
AIRFLOW_HOME and warehouse), logs in through ``POST /auth/token``, triggers
``copilot_usage_ingest`` through the REST API with Params, waits for it and for the Asset-triggered
``copilot_usage_transform`` to succeed, then stops everything with SIGINT (Ctrl-C).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests
from copilot_dev import local_airflow
from harness import make_airflow

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 600


def _api(base: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = requests.request(method, base + path, json=body, headers=headers, timeout=30)
    resp.raise_for_status()
    return resp.json() if resp.content else {}


def _wait_for(predicate, timeout: float, what: str, interval: float = 3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    root = tmp_path_factory.mktemp("local-airflow")
    port = make_airflow.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "COPILOT_"))}
    env |= {
        "COPILOT_WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "COPILOT_LANDING_PATH": str(root / "landing"),
        "COPILOT_TASK_RETRY_DELAY_SECONDS": "2",
        # Keep the daily schedule from adding its own run: this test triggers the one it waits for.
        "COPILOT_INGEST_START": "2099-01-01",
    }
    with make_airflow.running(root / "airflow", port, env) as local:
        login = {"username": "admin", "password": local.password}
        token = _api(local.base, "POST", "/auth/token", body=login)["access_token"]
        yield {
            "proc": local.proc,
            "base": local.base,
            "token": token,
            "root": root,
            "lines": local.lines,
            "port": port,
        }


def test_pool_and_variables_are_configured(local):
    pool = _api(local["base"], "GET", "/api/v2/pools/duckdb_writer", local["token"])
    assert pool["slots"] == 1
    assert any(line.startswith("Airflow is up: http://127.0.0.1:") for line in local["lines"])


def test_triggered_ingest_succeeds_and_the_asset_triggers_the_transform(local):
    base, token = local["base"], local["token"]
    _wait_for(
        lambda: (
            _dag_exists(base, token, "copilot_usage_ingest")
            and _dag_exists(base, token, "copilot_usage_transform")
        ),
        240,
        "the DAG processor to parse both DAGs",
    )
    for dag_id in ("copilot_usage_ingest", "copilot_usage_transform"):
        _api(base, "PATCH", f"/api/v2/dags/{dag_id}", token, {"is_paused": False})
    run = _api(
        base,
        "POST",
        "/api/v2/dags/copilot_usage_ingest/dagRuns",
        token,
        {"logical_date": None, "conf": {"start_day": "2026-11-19", "end_day": "2026-11-20"}},
    )
    run_id = run["dag_run_id"]

    def ingest_state():
        state = _api(base, "GET", f"/api/v2/dags/copilot_usage_ingest/dagRuns/{run_id}", token)["state"]
        return state if state in ("success", "failed") else None

    assert _wait_for(ingest_state, RUN_TIMEOUT, "the ingest run") == "success"
    tasks = _api(base, "GET", f"/api/v2/dags/copilot_usage_ingest/dagRuns/{run_id}/taskInstances", token)
    loads = [t for t in tasks["task_instances"] if t["task_id"] == "ingest_scope.load"]
    assert len(loads) == 3 and all(t["state"] == "success" and t["pool"] == "duckdb_writer" for t in loads)

    def transform_state():
        runs = _api(base, "GET", "/api/v2/dags/copilot_usage_transform/dagRuns", token)["dag_runs"]
        done = [r["state"] for r in runs if r["state"] in ("success", "failed")]
        return done[0] if done else None

    assert _wait_for(transform_state, RUN_TIMEOUT, "the Asset-triggered transform run") == "success"


def _dag_exists(base: str, token: str, dag_id: str) -> bool:
    try:
        _api(base, "GET", f"/api/v2/dags/{dag_id}", token)
        return True
    except requests.HTTPError:
        return False


def test_ctrl_c_stops_every_component(local):
    proc = local["proc"]
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=120) == 0
    assert local_airflow.health(local["port"]) is None
    marker = f"AIRFLOW_HOME={local['root'] / 'airflow'}".encode()
    assert _wait_for(lambda: not _processes_with(marker), 30, "every Airflow component to exit", 1) is True


def _processes_with(marker: bytes) -> list[int]:
    """Processes whose environment contains ``marker`` (the test's AIRFLOW_HOME)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as fh:
                    if marker in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found
