"""The Airflow UI plugin (``plugins/``): its FastAPI pages against small warehouses, and the plugin class.

The app runs under FastAPI's TestClient without Airflow's login check (``require_login=False``;
one test keeps the check and sees the login page). Answers: the report page serves the report
the transform DAG built next to the warehouse (404 page when there is none yet); data health
answers 200, 404 when there is no warehouse yet, and 503 while another process holds DuckDB's
write lock, always as an HTML page without a traceback or a secret.
"""

from __future__ import annotations

import html
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from copilot_airflow import ui
from copilot_warehouse.serve.report import build_report
from fastapi.testclient import TestClient
from harness.report_fixtures import make_marts_warehouse

SECRET = "ghp_" + "x" * 36  # a token-shaped value the pages must never show


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_marts_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture
def client(monkeypatch, warehouse):
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(warehouse))
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_COPILOT", f'{{"conn_type": "http", "password": "{SECRET}"}}')
    monkeypatch.delenv("COPILOT_SIMULATOR_LAST_DAY", raising=False)
    return TestClient(ui.create_app(require_login=False))


def _no_leak(text: str) -> None:
    assert SECRET not in text
    assert "Traceback" not in text
    assert "ghp_" not in text and "Bearer " not in text and "AIRFLOW_CONN" not in text


def test_report_page_serves_the_report_built_next_to_the_warehouse(client, warehouse):
    built = build_report(warehouse, warehouse.parent / "report")
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.text == built.read_text(encoding="utf-8")
    assert "GitHub Copilot usage report" in resp.text
    _no_leak(resp.text)


def test_report_page_without_a_report_says_how_one_is_built(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    resp = TestClient(ui.create_app(require_login=False)).get("/")
    assert resp.status_code == 404
    assert "No report has been built yet" in resp.text
    assert "copilot_usage_transform" in resp.text and "make report" in resp.text
    _no_leak(resp.text)


def test_data_health_lists_every_scope_with_freshness_and_the_anomalies(client, warehouse, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_COPILOT_ORGS", '["octo-demo", "acme-labs", "never-loaded"]')
    resp = client.get("/health")
    assert resp.status_code == 200
    text = resp.text
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        health = con.execute(
            "select scope_name, latest_report_day, unavailable_reports from marts.fct_copilot_data_health"
        ).fetchall()
        anomalies = con.execute("select check_name, finding from marts.fct_copilot_data_quality").fetchall()
    finally:
        con.close()
    assert len(health) == 3 and anomalies
    for name, latest, unavailable in health:
        assert f'data-scope="{"enterprise" if "enterprise" in name else "organization"}-{name}"' in text
        if latest is not None:
            assert str(latest) in text
        if unavailable:
            assert unavailable in text
    for check, finding in anomalies:
        assert check in text and html.escape(finding) in text
    # the fixture's data ended weeks before today: real GitHub wording calls that stale
    assert "STALE:" in text
    assert "Configured but without data: organization:never-loaded" in text
    assert 'id="report-availability"' in text
    _no_leak(text)


def test_data_health_on_simulator_data_is_not_called_stale(client, monkeypatch):
    monkeypatch.setenv("COPILOT_SIMULATOR_LAST_DAY", "2026-11-22")
    text = client.get("/health").text
    assert "simulator data (ends 2026-11-22)" in text and "STALE" not in text


def test_data_health_without_a_warehouse_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(tmp_path / "none" / "warehouse.duckdb"))
    resp = TestClient(ui.create_app(require_login=False)).get("/health")
    assert resp.status_code == 404
    assert "No warehouse yet" in resp.text and "copilot_usage_ingest" in resp.text
    assert not (tmp_path / "none").exists(), "a page must never create the warehouse"
    _no_leak(resp.text)


_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.read()
    """
)


def test_data_health_while_a_task_writes_the_warehouse_answers_busy_at_once(client, warehouse):
    ui._last_health.body = None  # no earlier view in this process
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        resp = client.get("/health")
        assert resp.status_code == 503
        assert resp.headers["retry-after"] == str(ui.BUSY_RETRY_SECONDS)
        assert "The warehouse is busy" in resp.text
        _no_leak(resp.text)
        # the report file is served as ever: the lock is no reason to wait
        build = warehouse.parent / "report" / "index.html"
        if build.exists():
            assert client.get("/").status_code == 200
    finally:
        holder.communicate("", timeout=30)
    # after a view was read, the busy page shows it, marked with the time it was read
    assert client.get("/health").status_code == 200
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        resp = client.get("/health")
        assert resp.status_code == 503
        assert "Shown below: the view read at" in resp.text and 'id="data-health"' in resp.text
    finally:
        holder.communicate("", timeout=30)


def test_an_unreadable_warehouse_gives_one_line_not_a_traceback(monkeypatch, tmp_path):
    bad = tmp_path / "warehouse.duckdb"
    bad.write_text(f"not a database {SECRET}")
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(bad))
    resp = TestClient(ui.create_app(require_login=False)).get("/health")
    assert resp.status_code == 500
    assert "This page could not be shown" in resp.text
    _no_leak(resp.text)


def test_pages_require_an_airflow_login():
    client = TestClient(ui.create_app())
    for path in ("/", "/health"):
        resp = client.get(path)
        assert resp.status_code == 401
        assert "log in to Airflow" in resp.text


def test_plugin_mounts_the_app_and_adds_both_navigation_entries():
    # As Airflow's plugin manager does: the file from the plugins folder, not an installed module.
    path = Path(__file__).resolve().parents[1] / "plugins" / "copilot_usage_plugin.py"
    spec = importlib.util.spec_from_file_location("copilot_usage_plugin", path)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)

    cls = plugin.CopilotUsagePlugin
    assert cls.name == "copilot_usage"
    assert cls.fastapi_apps == [{"app": ui.app, "url_prefix": "/copilot-usage", "name": "Copilot usage"}]
    views = {v["name"]: v for v in cls.external_views}
    assert set(views) == {"Copilot usage", "Copilot data health"}
    assert views["Copilot usage"]["href"] == "copilot-usage/"
    assert views["Copilot data health"]["href"] == "copilot-usage/health"
    for view in views.values():
        assert view["destination"] == "nav" and view["url_route"] and not view["href"].startswith("/")
    # Airflow's own model of a plugin accepts these entries (the /api/v2/plugins answer)
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse, FastAPIAppResponse

    for view in cls.external_views:
        ExternalViewResponse.model_validate(view)
    FastAPIAppResponse.model_validate({**cls.fastapi_apps[0], "app": "copilot_airflow.ui.app"})


def test_airflow_loads_only_the_plugin_file_from_the_plugins_folder():
    """The package's modules are imported by the plugin, not loaded again under bare names."""
    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory

    folder = Path(__file__).resolve().parents[1] / "plugins"
    plugins, errors = _load_plugins_from_plugin_directory(str(folder))
    assert errors == {}
    assert [type(p).__name__ for p in plugins] == ["CopilotUsagePlugin"]
    assert "ui" not in sys.modules
