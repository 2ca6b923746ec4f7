"""The HTML report in a real headless Chromium: it renders offline, every chart holds the mart data.

Uses Debian's Chromium (``make system-deps``) driven by playwright; playwright's own browser
downloads are never used. Without Chromium the tests are skipped locally and fail in CI
(``CI=true``), where the browser is part of the environment. The full-page screenshot is saved
to ``test-artifacts/report.png`` for people to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from copilot_warehouse.serve.report import build_report
from harness.report_fixtures import expected_charts, make_marts_warehouse

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

READ_TRACES = """
id => {
  const gd = document.getElementById(id);
  return (gd.data || []).map(t => ({
    name: t.name,
    orientation: t.orientation || "v",
    x: Array.from(t.x || []),
    y: Array.from(t.y || []),
  }));
}
"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: install it with `make system-deps`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (required when CI=true)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """A page load with every request, console error and page error recorded."""

    def __init__(self, browser, html_path: Path) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
        # Every request passes this handler: file:// goes on, anything else is recorded and refused.
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(html_path.as_uri(), wait_until="load")
        self.page.wait_for_function("document.body.dataset.chartsRendered !== undefined", timeout=30_000)

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_marts_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def visit(browser, warehouse, tmp_path_factory):
    html = build_report(warehouse, tmp_path_factory.mktemp("report"))
    v = Visit(browser, html)
    yield v
    v.close()


def test_page_loads_without_console_errors(visit):
    assert visit.errors == []


def test_page_makes_no_request_but_its_own_file(visit):
    assert visit.requests, "the route handler must have seen the page itself"
    assert [u for u in visit.requests if not u.startswith("file://")] == []


def test_every_chart_is_drawn_with_the_mart_data_points(visit, warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = expected_charts(con)
    finally:
        con.close()
    drawn = visit.page.evaluate(
        "Array.from(document.querySelectorAll('.chart.js-plotly-plot')).map(e => e.id)"
    )
    charts = visit.page.evaluate("Array.from(document.querySelectorAll('.chart')).map(e => e.id)")
    assert drawn == charts, "every chart container is rendered by plotly"
    assert set(expected) <= set(drawn)
    for chart_id, traces in expected.items():
        got = visit.page.evaluate(READ_TRACES, chart_id)
        assert [t["name"] for t in got] == [t[0] for t in traces], chart_id
        for (name, x, y), t in zip(traces, got, strict=True):
            cats, values = (t["y"], t["x"]) if t["orientation"] == "h" else (t["x"], t["y"])
            assert cats == x, f"{chart_id} / {name}"
            assert values == pytest.approx(y, rel=1e-12), f"{chart_id} / {name}"
        # The SVG holds one drawn trace per data series.
        n_drawn = visit.page.evaluate(
            "id => document.getElementById(id)"
            ".querySelectorAll('.scatterlayer .trace, .barlayer .trace').length",
            chart_id,
        )
        assert n_drawn == len(traces), chart_id


def test_kpis_and_tables_are_visible(visit):
    page = visit.page
    assert page.locator("#overview .kpi").count() >= 6
    assert page.locator("#organization-octo-demo .kpi-value").first.is_visible()
    assert page.locator("#table-organization-octo-demo-top-members tbody tr").count() == 10


def test_full_page_screenshot_is_saved(visit):
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "report.png"
    png = visit.page.screenshot(path=str(target), full_page=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 50_000


def test_no_data_notes_render_cleanly(browser, tmp_path):
    wh = make_marts_warehouse(
        tmp_path / "warehouse.duckdb", omit=("fct_copilot_usage_by_dimension_daily", "dim_copilot_seats")
    )
    v = Visit(browser, build_report(wh, tmp_path / "out"))
    try:
        assert v.errors == []
        note = v.page.locator("#chart-organization-octo-demo-by-language")
        assert note.is_visible()
        assert "fct_copilot_usage_by_dimension_daily is not in the warehouse" in note.inner_text()
        assert v.page.locator("#chart-organization-octo-demo-active-users.js-plotly-plot").count() == 1
    finally:
        v.close()


def test_request_recorder_catches_outside_requests(browser, tmp_path):
    """Guards the no-request check: a page that does reach out is seen and refused."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.invalid/pixel.png">'
        '<script>document.body.dataset.chartsRendered = "0";</script></body></html>',
        encoding="utf-8",
    )
    v = Visit(browser, page)
    try:
        assert "https://example.invalid/pixel.png" in v.requests
    finally:
        v.close()
