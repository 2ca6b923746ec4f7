"""The Copilot usage plugin in a real Airflow UI: log in, open both navigation entries, read the figures.

Starts ``python -m copilot_dev airflow`` as ``make airflow`` does (own AIRFLOW_HOME under a
temporary folder, a free port, ``--paused`` so no DAG run writes the warehouse), on a warehouse of
fixture marts (``report_fixtures``) whose report was built where the transform DAG puts it. Then
Debian's Chromium, driven by playwright, logs in through Airflow's login page (simple auth
manager, user ``admin``), opens Browse → "Copilot usage", checks that figures computed from the
warehouse appear in the report inside Airflow's page, opens Browse → "Copilot data health", and
checks that the browser logged no console error after the login (before it, Airflow's own login
page logs a 401 of ``/ui/config``). The screenshot goes to
``test-artifacts/airflow-copilot-usage.png``. Without Chromium the test is skipped locally and
fails in CI (``CI=true``), like ``test_report_browser.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from copilot_dev import airflow_env
from copilot_warehouse.serve.report import build_report
from harness import make_airflow
from harness.report_fixtures import make_marts_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: install it with `make system-deps`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (required when CI=true)")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def local(chromium, tmp_path_factory):
    root = tmp_path_factory.mktemp("airflow-plugin")
    warehouse = make_marts_warehouse(root / "data" / "warehouse.duckdb")
    build_report(warehouse, warehouse.parent / "report")  # where the transform DAG writes it
    port = make_airflow.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "COPILOT_"))}
    env |= {
        "COPILOT_WAREHOUSE_PATH": str(warehouse),
        "COPILOT_LANDING_PATH": str(root / "data" / "landing"),
        "COPILOT_INGEST_START": "2099-01-01",  # no scheduled run
    }
    home = root / "airflow"
    with make_airflow.running(home, port, env, "--paused") as local:
        yield {
            "base": local.base,
            "password": local.password,
            "warehouse": warehouse,
            "env": airflow_env.build_env(home=home, warehouse=warehouse, api_port=port, base=env),
        }


def test_airflow_lists_the_plugin(local):
    result = airflow_env.airflow_cmd(local["env"], "plugins", "--output", "json", timeout=180)
    plugins = json.loads(result.stdout[result.stdout.index("[") :])
    mine = [p for p in plugins if p["name"] == "copilot_usage"]
    assert mine, result.stdout[-2000:]
    assert "/copilot-usage" in json.dumps(mine[0]["fastapi_apps"])
    assert {"Copilot usage", "Copilot data health"} <= {v["name"] for v in mine[0]["external_views"]}


def _expected_figures(warehouse: Path) -> dict[str, str]:
    """Figures the report's overview shows, computed from the warehouse with our own SQL."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (loc,) = con.execute(
            """select sum(loc_added) from marts.fct_copilot_usage_daily as u
               where scope_type = 'enterprise' and day > (
                   select max(day) - 28 from marts.fct_copilot_usage_daily as l
                   where l.scope_type = u.scope_type and l.scope_name = u.scope_name)"""
        ).fetchone()
        (latest,) = con.execute("select max(day) from marts.fct_copilot_usage_daily").fetchone()
        (anomaly,) = con.execute(
            "select check_name from marts.fct_copilot_data_quality order by all limit 1"
        ).fetchone()
    finally:
        con.close()
    return {"loc": f"{loc:,}", "latest": latest.isoformat(), "anomaly": anomaly}


def test_report_and_data_health_open_from_airflows_navigation(local):
    from playwright.sync_api import sync_playwright

    expected = _expected_figures(local["warehouse"])
    base = local["base"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(base + "/", wait_until="load")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", local["password"])
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(base + "/")
            page.get_by_role("button", name="Browse").wait_for()
            errors.clear()  # only what happens once logged in counts (see the module docstring)

            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name="Copilot usage").click()
            report = page.frame_locator("iframe")
            report.locator("body[data-charts-rendered]").wait_for(state="attached")
            overview = report.locator("#overview").inner_text()
            assert "GitHub Copilot usage report" in report.locator("h1").inner_text()
            # the KPI labels are upper-cased by CSS, and inner_text returns what is shown
            assert "lines of code added" in overview.lower() and expected["loc"] in overview
            assert expected["latest"] in report.locator("header").inner_text()
            assert report.locator(".chart.js-plotly-plot").count() > 5
            assert "/plugin/" in page.url  # shown inside Airflow's page, its navigation beside it
            assert page.get_by_role("button", name="Browse").is_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "airflow-copilot-usage.png"))

            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name="Copilot data health").click()
            health = page.frame_locator("iframe")
            health.locator("h1", has_text="Copilot data health").wait_for()
            table = health.locator("#data-health").inner_text()
            for scope in ("Organization octo-demo", "Organization acme-labs", "Enterprise octo-enterprise"):
                assert scope in table
            assert expected["latest"] in table
            assert expected["anomaly"] in health.locator("#anomalies").inner_text()
            assert "Report built" in health.locator("#report-availability").inner_text()
            page.screenshot(path=str(ARTIFACTS / "airflow-copilot-data-health.png"))
            assert errors == []
        finally:
            browser.close()
