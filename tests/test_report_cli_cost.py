"""The report's Copilot CLI, desktop app and AI credit panels (``report/cli_cost_panels.py``).

Runs against the marts fixture of ``report_fixtures`` plus hand-made rows of the CLI and credit
marts: the charts show the mart values as they are (weekly distinct users, ratios of sums, the
app apart from the CLI), the credit figures are labelled estimates, and a missing mart gives a
"no data" note while the rest of the page renders.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from copilot_warehouse.serve.report import build_report
from harness.report_fixtures import make_marts_warehouse, parse_report

SID = "organization-octo-demo"
W1, W2 = date(2026, 11, 2), date(2026, 11, 9)
PANELS = {
    "fct_copilot_cli_weekly": (
        f"chart-{SID}-cli-weekly",
        f"chart-{SID}-cli-tokens-per-request",
        f"chart-{SID}-copilot-app-weekly",
    ),
    "fct_copilot_ai_credits_weekly": (f"chart-{SID}-ai-credits-weekly", f"table-{SID}-ai-credits-cost"),
    "fct_copilot_ai_credits_team_weekly": (f"table-{SID}-ai-credits-teams",),
    "fct_copilot_ai_credits_by_model_daily": (f"chart-{SID}-ai-credits-by-model",),
}


def _add_cli_cost_marts(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(
            """create table marts.fct_copilot_cli_weekly as
               select * from (values
                 ('organization', 'octo-demo', date '2026-11-02', 7, 3, 10, 120, 20, 1500.5, 1, 2, 30, 4,
                  900.0, 3),
                 ('organization', 'octo-demo', date '2026-11-09', 7, 2, 6, 50, 9, 1200.0, 0, 0, 0, 0,
                  null, 2)
               ) as t(scope_type, scope_name, week_start, days_with_data, cli_users, cli_sessions,
                      cli_requests, cli_prompts, cli_tokens_per_request, app_users, app_sessions,
                      app_requests, app_prompts, app_tokens_per_request, cli_or_app_users)"""
        )
        con.execute(
            """create table marts.fct_copilot_ai_credits_weekly as
               select * from (values
                 ('organization', 'octo-demo', date '2026-11-02', 7, 4, 12.5, 0.04, 0.5),
                 ('organization', 'octo-demo', date '2026-11-09', 7, 2, 3.25, 0.04, 0.13)
               ) as t(scope_type, scope_name, week_start, days_with_data, members_with_credits,
                      ai_credits_used, price_per_ai_credit_usd, estimated_cost_usd)"""
        )
        con.execute(
            """create table marts.fct_copilot_ai_credits_team_weekly as
               select * from (values
                 ('organization', 'octo-demo', date '2026-11-02', 1, 'platform', 5, 3, 8.0, 0.32),
                 ('organization', 'octo-demo', date '2026-11-09', 1, 'platform', 5, 2, 3.0, 0.12),
                 ('organization', 'octo-demo', date '2026-11-09', 2, 'web', 6, 1, 1.5, 0.06)
               ) as t(scope_type, scope_name, week_start, team_id, team_slug, team_members,
                      members_with_credits, ai_credits_used, estimated_cost_usd)"""
        )
        con.execute(
            """create table marts.fct_copilot_ai_credits_by_model_daily as
               select scope_type, scope_name, day, model, members,
                      cast(allocated_ai_credits as decimal(38, 10)) as allocated_ai_credits,
                      0.04 as price_per_ai_credit_usd, estimated_cost_usd
               from (values
                 ('organization', 'octo-demo', date '2026-11-10', 'gpt-5', 2, 2.5, 0.1),
                 ('organization', 'octo-demo', date '2026-11-11', 'gpt-5', 1, 0.75, 0.03),
                 ('organization', 'octo-demo', date '2026-11-11', 'unattributed', 1, 1.0, 0.04)
               ) as t(scope_type, scope_name, day, model, members, allocated_ai_credits,
                      estimated_cost_usd)"""
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cli-cost")
    warehouse = make_marts_warehouse(root / "warehouse.duckdb")
    _add_cli_cost_marts(warehouse)
    html = build_report(warehouse, root / "out").read_text(encoding="utf-8")
    page = parse_report(html)
    page.html = " ".join(html.split())
    return page


def _traces(spec: dict) -> dict[str, tuple[list, list]]:
    out = {}
    for t in spec["data"]:
        out[t["name"]] = (t["y"], t["x"]) if t.get("orientation") == "h" else (t["x"], t["y"])
    return out


def test_cli_and_app_panels_show_the_weekly_mart_values_apart(parsed):
    weeks = [W1.isoformat(), W2.isoformat()]
    cli = _traces(parsed.chart_specs[f"chart-{SID}-cli-weekly"])
    assert cli == {
        "CLI requests": (weeks, [120, 50]),
        "CLI sessions": (weeks, [10, 6]),
        "CLI users": (weeks, [3, 2]),
    }
    tokens = _traces(parsed.chart_specs[f"chart-{SID}-cli-tokens-per-request"])
    assert tokens == {"CLI": (weeks, [1500.5, 1200.0]), "Desktop app": (weeks, [900.0, None])}
    app = _traces(parsed.chart_specs[f"chart-{SID}-copilot-app-weekly"])
    assert app == {
        "App requests": (weeks, [30, 0]),
        "App sessions": (weeks, [2, 0]),
        "App users": (weeks, [1, 0]),
    }
    assert "kept apart from the CLI and never added to it" in parsed.html


def test_users_have_their_own_axis_beside_requests(parsed):
    # a few users beside hundreds of requests would be a flat line on one shared axis
    for chart, users in (("cli-weekly", "CLI users"), ("copilot-app-weekly", "App users")):
        spec = parsed.chart_specs[f"chart-{SID}-{chart}"]
        axes = {t["name"]: t.get("yaxis", "y") for t in spec["data"]}
        assert axes.pop(users) == "y2", chart
        assert set(axes.values()) == {"y"}, chart
        assert spec["layout"]["yaxis2"]["overlaying"] == "y"
        assert spec["layout"]["yaxis2"]["title"]["text"].startswith("Users")


def test_credit_panels_are_labelled_estimates(parsed):
    credits = _traces(parsed.chart_specs[f"chart-{SID}-ai-credits-weekly"])
    weeks = [W1.isoformat(), W2.isoformat()]
    assert credits == {"AI credits": (weeks, [12.5, 3.25])}
    # newest week first: week, members with credits, credits, price, estimated cost
    assert parsed.tables[f"table-{SID}-ai-credits-cost"] == [
        ["2026-11-09", "2", "3.2", "0.04", "$0.13"],
        ["2026-11-02", "4", "12.5", "0.04", "$0.50"],
    ]
    assert "per-user AI credits metric, not the invoice" in parsed.html
    models = _traces(parsed.chart_specs[f"chart-{SID}-ai-credits-by-model"])
    assert models == {"Allocated AI credits": (["gpt-5", "unattributed"], [3.25, 1.0])}
    assert "AI credits by model (allocated estimate)" in parsed.html
    teams = parsed.tables[f"table-{SID}-ai-credits-teams"]
    assert [r[0] for r in teams] == ["platform", "web"]  # most credits first
    assert teams[0][1:] == ["5", "2", "11.0", "$0.44"]  # latest week's members; summed credits


@pytest.mark.parametrize(("mart", "panel_ids"), PANELS.items())
def test_a_missing_mart_gives_a_no_data_note(tmp_path, mart, panel_ids):
    warehouse = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    _add_cli_cost_marts(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(f"drop table marts.{mart}")
    con.close()
    parsed = parse_report(build_report(warehouse, tmp_path / "out").read_text(encoding="utf-8"))
    for panel_id in panel_ids:
        assert parsed.ids[panel_id]["class"] == "no-data", panel_id
        assert f"marts.{mart} is not in the warehouse" in parsed.text(panel_id)
    assert f"chart-{SID}-active-users" in parsed.chart_specs


DRAWN_TRACES = "id => (document.getElementById(id).data || []).length"


@pytest.mark.browser
def test_the_panels_draw_in_chromium_without_console_errors(tmp_path):
    """The CLI and credit charts render in headless Chromium (skipped without it, like the browser tests)."""
    from test_report_browser import CHROMIUM, CHROMIUM_ARGS, Visit

    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    warehouse = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    _add_cli_cost_marts(warehouse)
    html = build_report(warehouse, tmp_path / "out")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            visit = Visit(browser, html)
            try:
                assert visit.errors == []
                for chart_id in (*PANELS["fct_copilot_cli_weekly"], f"chart-{SID}-ai-credits-weekly"):
                    drawn = visit.page.evaluate(DRAWN_TRACES, chart_id)
                    assert drawn > 0, chart_id
                visit.page.locator(f"#chart-{SID}-ai-credits-by-model").screenshot(
                    path=str(tmp_path / "credits-by-model.png")
                )
            finally:
                visit.close()
        finally:
            browser.close()
