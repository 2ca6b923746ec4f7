"""The HTML usage report, read without a browser: what it shows, where it comes from, what it never does.

Runs against a real DuckDB file holding the marts of the contract (``report_fixtures``); every
expected figure is recomputed here with the tests' own SQL.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from copilot_warehouse.serve import report
from copilot_warehouse.serve.report import ReportError, build_report
from harness.report_fixtures import ALL_MARTS, expected_charts, make_marts_warehouse, parse_report
from plotly.offline import get_plotlyjs

ORG = "organization-octo-demo"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_marts_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def page(warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    path = build_report(warehouse, tmp_path_factory.mktemp("report"))
    html = path.read_text(encoding="utf-8")
    return html, parse_report(html)


def _build(tmp_path: Path, omit: tuple[str, ...] = ()):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb", omit=omit)
    html = build_report(wh, tmp_path / "out").read_text(encoding="utf-8")
    return wh, parse_report(html)


def _fetch(warehouse: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` on the warehouse, opened read-only."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _trace_points(spec: dict) -> list[tuple[str, list, list]]:
    """(name, categories, values) per trace: x/y for lines, y/x for horizontal bars."""
    out = []
    for t in spec["data"]:
        if t.get("orientation") == "h":
            out.append((t["name"], t["y"], t["x"]))
        else:
            out.append((t["name"], t["x"], t["y"]))
    return out


def test_build_report_writes_index_html_and_returns_its_path(warehouse, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="copilot_warehouse.serve.report"):
        path = build_report(warehouse, tmp_path / "site")
    assert path == tmp_path / "site" / "index.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert str(path) in caplog.text
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]  # no temp file left behind
    assert path.stat().st_mode & 0o777 == 0o644  # readable by anyone who can read the folder


def test_defaults_read_warehouse_from_env_and_write_to_data_report(warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(warehouse))
    path = build_report()
    assert path.resolve() == (tmp_path / "data" / "report" / "index.html").resolve()


def test_page_is_self_contained_with_plotly_embedded_once(page):
    html, parsed = page
    assert html.count(get_plotlyjs()) == 1
    # Nothing is fetched: no src/href except in-page anchors, no stylesheet links or CSS urls.
    assert [r for r in parsed.references if not (r[1] == "href" and r[2].startswith("#"))] == []
    assert [s for s in parsed.scripts if "src" in s] == []
    style = html[html.index("<style>") : html.index("</style>")]
    assert "url(" not in style and "@import" not in style


def test_every_scope_has_a_section_and_a_link(page):
    _, parsed = page
    for slug in (
        "organization-octo-demo",
        "organization-acme-labs",
        "enterprise-octo-enterprise",
        "overview",
    ):
        assert parsed.ids[slug]["tag"] == "section"
        assert ("a", "href", f"#{slug}") in parsed.references


def test_every_chart_shows_exactly_the_mart_values(page, warehouse):
    _, parsed = page
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = expected_charts(con)
    finally:
        con.close()
    specs = parsed.chart_specs
    assert expected, "the fixture must produce charts to compare"
    for chart_id, traces in expected.items():
        assert chart_id in specs, chart_id
        assert parsed.ids[chart_id]["class"] == "chart"
        got = _trace_points(specs[chart_id])
        assert [t[0] for t in got] == [t[0] for t in traces], chart_id
        for (name, x, y), (_, gx, gy) in zip(traces, got, strict=True):
            assert gx == x, f"{chart_id} / {name}: x"
            assert gy == pytest.approx(y, rel=1e-12), f"{chart_id} / {name}: y"


def test_language_breakdown_keeps_the_top_ten_of_twelve(page):
    _, parsed = page
    (suggestions, _) = _trace_points(parsed.chart_specs[f"chart-{ORG}-by-language"])[:2]
    assert len(suggestions[1]) == 10
    assert suggestions[2] == sorted(suggestions[2], reverse=True)


@pytest.mark.parametrize(
    ("table_id", "sql"),
    [
        pytest.param(
            f"table-{ORG}-top-members",
            "select user_login from marts.fct_copilot_member_summary where scope_name = 'octo-demo' "
            "order by code_acceptances desc, active_days desc, user_login limit 10",
            id="top members by accepted suggestions",
        ),
        pytest.param(
            f"table-{ORG}-inactive-seats",
            "select user_login from marts.dim_copilot_seats "
            "where scope_name = 'octo-demo' and is_inactive_seat "
            "order by days_since_last_activity desc nulls first, user_login",
            id="inactive seats, longest idle first",
        ),
        pytest.param(
            f"table-{ORG}-never-seats",
            "select user_login from marts.dim_copilot_seats where scope_name = 'octo-demo' and is_never_used "
            "order by user_login",
            id="never-used seats",
        ),
        pytest.param(
            f"table-{ORG}-teams",
            "select team_slug from marts.fct_copilot_team_usage_weekly where scope_name = 'octo-demo' "
            "and week_start = date '2026-11-16' "
            "order by active_members desc, code_acceptances desc, team_slug",
            id="teams by active members in the latest week",
        ),
        pytest.param(
            "table-organization-acme-labs-partitions",
            "select report from marts.fct_copilot_partition_status where scope_name = 'acme-labs' "
            "and status not in ('loaded', 'unavailable') order by all",
            id="partitions not loaded (gaps and failures; not the days of an unavailable report)",
        ),
    ],
)
def test_tables_list_the_mart_rows(page, warehouse, table_id, sql):
    _, parsed = page
    expected = [r[0] for r in _fetch(warehouse, sql)]
    assert expected
    assert [row[0] for row in parsed.tables[table_id]] == expected


def test_top_members_table_formats_rates_and_counts(page, warehouse):
    _, parsed = page
    login, gens, accs = _fetch(
        warehouse,
        "select user_login, code_generations, code_acceptances from marts.fct_copilot_member_summary "
        "where scope_name = 'octo-demo' order by code_acceptances desc, active_days desc limit 1",
    )[0]
    first = parsed.tables[f"table-{ORG}-top-members"][0]
    assert first[0] == login
    assert first[3:6] == [f"{gens:,}", f"{accs:,}", f"{accs / gens * 100:.1f}%"]


def test_data_health_panel_shows_latest_day_gaps_and_quarantine(page, warehouse):
    _, parsed = page
    latest, missing, quarantined = _fetch(
        warehouse,
        "select latest_report_day, days_missing, quarantined_records from marts.fct_copilot_data_health "
        "where scope_name = 'octo-enterprise'",
    )[0]
    rows = parsed.tables["table-enterprise-octo-enterprise-data-health"]
    # ... no report, failed, quarantined, unavailable reports (none), source anomalies
    assert rows == [[latest.isoformat(), str(missing), *rows[0][2:4], str(quarantined), "—", "0"]]
    assert len(parsed.tables["table-overview-data-health"]) == 3


def test_data_health_panel_names_the_reports_github_does_not_offer(page):
    _, parsed = page
    (row,) = parsed.tables["table-organization-acme-labs-data-health"]
    assert "repos-1-day (HTTP 404)" in row
    assert any("repos-1-day (HTTP 404)" in r for r in parsed.tables["table-overview-data-health"])
    # its days are not among the partitions to worry about
    partitions = parsed.tables["table-organization-acme-labs-partitions"]
    assert partitions and not any("repos-1-day" in cell for r in partitions for cell in r)


def test_anomaly_panels_list_the_data_quality_rows_of_the_scope_and_of_all(page, warehouse):
    _, parsed = page
    expected = _fetch(
        warehouse,
        "select scope_name, day, check_name, observed_values from marts.fct_copilot_data_quality "
        "order by day desc, check_name",
    )
    assert len(expected) == 2
    scope_rows = parsed.tables[f"table-{ORG}-anomalies"]
    assert [(r[0], r[1], r[4]) for r in scope_rows] == [(d.isoformat(), c, v) for _, d, c, v in expected]
    assert "weekly_active_users=4 > monthly_active_users=3" in scope_rows[0]
    assert parsed.text(f"table-{ORG}-anomalies")  # the table is there, not a note
    overview_rows = parsed.tables["table-overview-anomalies"]
    assert [(r[0], r[1], r[2]) for r in overview_rows] == [(n, d.isoformat(), c) for n, d, c, _ in expected]
    # a scope without anomalies says so as good news
    panel = "table-organization-acme-labs-anomalies"
    assert parsed.ids[panel]["class"] == "all-good"
    assert parsed.text(panel) == "No odd values from GitHub for Organization acme-labs."


def test_seat_figures_count_only_seats_held_by_users(page, warehouse):
    _, parsed = page
    users, rows = _fetch(
        warehouse,
        "select count(*) filter (where assignee_type = 'user'), count(*) from marts.dim_copilot_seats "
        "where scope_name = 'octo-demo'",
    )[0]
    assert rows > users  # the fixture has seat rows without a user assignee
    assert f"Copilot seats {users} assigned licences" in parsed.text(ORG)
    at_a_glance = {r[0]: r for r in parsed.tables["table-overview-scopes"]}
    assert at_a_glance["Organization octo-demo"][6] == str(users)


def test_kpi_acceptance_rate_is_sum_over_sum_of_the_last_28_days(page, warehouse):
    _, parsed = page
    (rate,) = _fetch(
        warehouse,
        "select sum(code_acceptances) / sum(code_generations) from marts.fct_copilot_usage_daily "
        "where scope_name = 'acme-labs' and day > ("
        "  select max(day) - 28 from marts.fct_copilot_usage_daily where scope_name = 'acme-labs')",
    )[0]
    section = parsed.text("organization-acme-labs")
    assert f"Acceptance rate {rate * 100:.1f}% 2026-10-26 to 2026-11-22" in section


# Each mart the report reads -> panels that must then say "no data" instead of showing a chart.
MISSING_MART_CASES = [
    pytest.param(
        "fct_copilot_usage_daily",
        [f"chart-{ORG}-active-users", "chart-overview-daily-active-users"],
        id="no daily usage: active-user charts say so",
    ),
    pytest.param(
        "fct_copilot_acceptance_weekly",
        [
            f"chart-{ORG}-acceptance-weekly",
            f"chart-{ORG}-suggestions-weekly",
            "chart-overview-acceptance-weekly",
        ],
        id="no weekly acceptance: trend charts say so",
    ),
    pytest.param(
        "fct_copilot_usage_by_dimension_daily",
        [
            f"chart-{ORG}-by-language",
            f"chart-{ORG}-by-ide",
            f"chart-{ORG}-by-model",
            f"chart-{ORG}-by-feature",
        ],
        id="no breakdowns: language/IDE/model/feature panels say so",
    ),
    pytest.param("fct_copilot_member_summary", [f"table-{ORG}-top-members"], id="no member summary"),
    pytest.param(
        "dim_copilot_seats", [f"table-{ORG}-inactive-seats", f"table-{ORG}-never-seats"], id="no seats"
    ),
    pytest.param(
        "fct_copilot_data_health",
        [f"table-{ORG}-data-health", "table-overview-data-health"],
        id="no data-health mart",
    ),
    pytest.param("fct_copilot_partition_status", [f"table-{ORG}-partitions"], id="no partition status"),
    pytest.param(
        "fct_copilot_data_quality",
        [f"table-{ORG}-anomalies", "table-overview-anomalies"],
        id="no data-quality mart: anomaly panels say so",
    ),
    pytest.param("fct_copilot_team_usage_weekly", [f"table-{ORG}-teams"], id="no team usage"),
    pytest.param(
        "fct_copilot_seat_utilisation_weekly", [f"chart-{ORG}-seat-utilisation"], id="no seat utilisation"
    ),
]


@pytest.mark.parametrize(("mart", "panel_ids"), MISSING_MART_CASES)
def test_missing_mart_gives_a_no_data_note_and_the_rest_still_renders(tmp_path, mart, panel_ids):
    _, parsed = _build(tmp_path, omit=(mart,))
    for panel_id in panel_ids:
        assert parsed.ids[panel_id]["class"] == "no-data", panel_id
        assert f"marts.{mart} is not in the warehouse" in parsed.text(panel_id)
        assert panel_id not in parsed.chart_specs
    # Panels fed by other marts are unaffected.
    assert parsed.ids[f"table-{ORG}-top-members"]["tag"] == (
        "p" if mart == "fct_copilot_member_summary" else "table"
    )
    assert len(parsed.chart_specs) > 0


def test_marts_the_report_does_not_read_can_be_absent(tmp_path):
    _, full = _build(tmp_path / "full")
    _, partial = _build(
        tmp_path / "partial", omit=("fct_copilot_member_daily", "fct_copilot_acceptance_weekly_by_dimension")
    )
    assert partial.chart_specs == full.chart_specs


def test_warehouse_without_marts_renders_an_explicit_empty_report(tmp_path):
    wh = tmp_path / "empty.duckdb"
    duckdb.connect(str(wh)).close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    assert "no organization or enterprise" in parsed.text("no-scopes")
    assert parsed.chart_specs == {}
    for panel_id in (
        "table-overview-scopes",
        "chart-overview-daily-active-users",
        "table-overview-data-health",
    ):
        assert parsed.ids[panel_id]["class"] == "no-data"


def test_mart_with_an_unexpected_shape_is_reported_not_fatal(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("alter table marts.dim_copilot_seats drop column plan_type")
    con.close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    assert "marts.dim_copilot_seats could not be read" in parsed.text(f"table-{ORG}-inactive-seats")
    assert f"chart-{ORG}-active-users" in parsed.chart_specs


def test_values_from_the_marts_cannot_inject_markup(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    evil = "</script><img src=x onerror=alert(1)>"
    con.execute(
        "update marts.fct_copilot_usage_by_dimension_daily set dimension_value = ? "
        "where dimension = 'ide' and dimension_value = 'vscode'",
        [evil],
    )
    con.execute("update marts.fct_copilot_member_summary set user_login = ? where user_id = 1", [evil])
    con.close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    assert not [r for r in parsed.references if r[0] == "img"]
    assert evil in _trace_points(parsed.chart_specs[f"chart-{ORG}-by-ide"])[0][1]
    assert evil in [row[0] for row in parsed.tables[f"table-{ORG}-top-members"]]


def test_report_leaves_the_warehouse_file_untouched(warehouse, tmp_path):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    build_report(warehouse, tmp_path)
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert not warehouse.with_suffix(".duckdb.wal").exists()


def test_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match="does not exist: run `make run`"):
        build_report(tmp_path / "nope.duckdb", tmp_path)


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        pytest.param(["--out-dir", "{out}"], 0, id="builds into --out-dir"),
        pytest.param(["--warehouse", "{missing}", "--out-dir", "{out}"], 1, id="missing warehouse exits 1"),
    ],
)
def test_cli(warehouse, tmp_path, monkeypatch, capsys, args, exit_code):
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(warehouse))
    argv = [a.format(out=tmp_path / "out", missing=tmp_path / "missing.duckdb") for a in args]
    assert report.cli("report", argv) == exit_code
    assert (tmp_path / "out" / "index.html").exists() == (exit_code == 0)
    if exit_code == 0:
        assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "index.html")


def test_all_contract_marts_are_in_the_fixture(warehouse):
    tables = {t for (t,) in _fetch(warehouse, "select table_name from information_schema.tables")}
    assert set(ALL_MARTS) <= tables


def test_rate_by_lines_is_the_completion_lines_rate_of_the_mart(tmp_path):
    """The chart's line by lines is completion_loc_acceptance_rate, never loc_added_per_suggested_line."""
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("update marts.fct_copilot_acceptance_weekly set completion_loc_acceptance_rate = 0.25")
    con.execute("update marts.fct_copilot_acceptance_weekly set loc_added_per_suggested_line = 1.75")
    con.close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    by_lines = _trace_points(parsed.chart_specs[f"chart-{ORG}-acceptance-weekly"])[1]
    assert by_lines[0] == "By completion lines"
    assert set(by_lines[2]) == {0.25}


def test_rate_by_lines_is_left_empty_for_a_warehouse_built_before_the_column(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("alter table marts.fct_copilot_acceptance_weekly drop column completion_loc_acceptance_rate")
    con.close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    by_lines = _trace_points(parsed.chart_specs[f"chart-{ORG}-acceptance-weekly"])[1]
    assert by_lines[0] == "By completion lines"
    assert all(v is None for v in by_lines[2])


def test_top_members_show_top_language_and_ide_when_the_mart_has_them(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute(
        "alter table marts.fct_copilot_member_summary add column top_language varchar default 'python'"
    )
    con.execute("alter table marts.fct_copilot_member_summary add column top_ide varchar default 'vscode'")
    con.close()
    html = build_report(wh, tmp_path / "out").read_text(encoding="utf-8")
    rows = parse_report(html).tables[f"table-{ORG}-top-members"]
    assert {tuple(r[-2:]) for r in rows} == {("python", "vscode")}
    assert "<th>Top language</th><th>Top IDE</th>" in html.replace('<th class="">', "<th>")


# --- on real pipeline output: simulator records -> raw -> dbt -> marts -> report and exports -----
@pytest.fixture(scope="module")
def pipeline_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose marts were built by the project's dbt models from simulator records."""
    raw_fixtures = pytest.importorskip("harness.raw_fixtures", reason="it loads raw for dbt")
    from copilot_dev.simulator import Dataset, SimulatorConfig
    from copilot_warehouse import warehouse

    root = tmp_path_factory.mktemp("pipeline")
    path = root / "warehouse.duckdb"
    dataset = Dataset(SimulatorConfig(users_per_org=12))
    cfg = dataset.config
    days = [cfg.start_day + timedelta(days=i) for i in range((cfg.end_day - cfg.start_day).days + 1)]
    con = warehouse.connect(path)
    try:
        raw_fixtures.load_days(con, dataset, days, load_id="report-test")
        raw_fixtures.load_snapshots(con, dataset, load_id="report-test")
    finally:
        con.close()
    project = Path(__file__).resolve().parents[1] / "dbt"
    # dbt runs in its own process: in-process it keeps the DuckDB file open read-write, and
    # DuckDB then refuses the report's read-only connection from the same process.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", "--project-dir", str(project),
         "--profiles-dir", str(project), "--quiet", "--target-path", str(root / "target"),
         "--log-path", str(root / "logs")],
        env={**os.environ, "COPILOT_WAREHOUSE_PATH": str(path), "DO_NOT_TRACK": "1"},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return path


@pytest.mark.integration
def test_report_on_pipeline_output_reads_every_mart_and_charts_its_values(pipeline_warehouse, tmp_path):
    html = build_report(pipeline_warehouse, tmp_path).read_text(encoding="utf-8")
    parsed = parse_report(html)
    con = duckdb.connect(str(pipeline_warehouse), read_only=True)
    try:
        expected = expected_charts(con)
        present = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    assert {"fct_copilot_usage_daily", "fct_copilot_acceptance_weekly", "dim_copilot_seats"} <= present
    # The report's queries fit the real marts: no panel says a mart could not be read.
    assert "could not be read" not in html
    for slug in ("organization-octo-demo", "organization-acme-labs", "enterprise-octo-enterprise"):
        assert parsed.ids[slug]["tag"] == "section"
    specs = parsed.chart_specs
    for chart_id, traces in expected.items():
        got = _trace_points(specs[chart_id])
        assert [t[0] for t in got] == [t[0] for t in traces], chart_id
        for (name, x, y), (_, gx, gy) in zip(traces, got, strict=True):
            assert gx == x, f"{chart_id} / {name}"
            assert gy == pytest.approx(y, rel=1e-9), f"{chart_id} / {name}"


@pytest.mark.integration
def test_exports_of_pipeline_output_match_row_counts(pipeline_warehouse, tmp_path):
    from copilot_warehouse.serve.export import export_marts

    paths = export_marts(pipeline_warehouse, tmp_path)
    con = duckdb.connect(str(pipeline_warehouse), read_only=True)
    try:
        for p in paths:
            reader = "read_parquet" if p.suffix == ".parquet" else "read_csv"
            exported = con.execute(f"select count(*) from {reader}('{p}')").fetchall()[0][0]
            assert exported == con.execute(f"select count(*) from marts.{p.stem}").fetchall()[0][0], p.name
    finally:
        con.close()
    assert len(paths) >= 2 * 4


def test_report_waits_for_a_writer_to_release_the_warehouse(tmp_path):
    warehouse = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
         "time.sleep(1.5); c.close()", str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        path = build_report(warehouse, tmp_path / "out")
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert path.exists()
    assert waited > 0.5, "the report must have waited for the writer's lock"


def test_all_partitions_loaded_is_good_news_not_a_missing_data_note(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("update marts.fct_copilot_partition_status set status = 'loaded', http_status = 200")
    con.close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    panel = f"table-{ORG}-partitions"
    assert parsed.ids[panel]["class"] == "all-good"
    assert parsed.text(panel) == "Every report day of Organization octo-demo is loaded."


def test_daily_active_users_card_names_the_weekday_and_the_28_day_average(page, warehouse):
    _, parsed = page
    dau, avg = _fetch(
        warehouse,
        "select arg_max(daily_active_users, day), "
        "avg(daily_active_users) filter (where day > date '2026-10-25') "
        "from marts.fct_copilot_usage_daily where scope_name = 'octo-demo'",
    )[0]
    assert f"Daily active users {dau} on Sun 2026-11-22; 28-day average {avg:,.1f}" in parsed.text(ORG)


# --- "all organizations" figures never add organizations up ------------------------------------
def _overview_kpis(parsed) -> str:
    return parsed.text("overview")


def _window_sums(con, where: str) -> tuple[int, int, int]:
    """Generations, acceptances and lines added over each matching scope's last 28 days."""
    return con.execute(
        f"""select sum(code_generations), sum(code_acceptances), sum(loc_added)
            from marts.fct_copilot_usage_daily as u
            where {where} and day > (
                select max(day) - 28 from marts.fct_copilot_usage_daily as l
                where l.scope_type = u.scope_type and l.scope_name = u.scope_name)"""
    ).fetchall()[0]


def test_overview_figures_are_the_enterprises_when_one_is_configured(page, warehouse):
    _, parsed = page
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        gens, accs, loc = _window_sums(con, "scope_type = 'enterprise'")
        org_loc = _window_sums(con, "scope_type = 'organization'")[2]
    finally:
        con.close()
    text = _overview_kpis(parsed)
    detail = "enterprise octo-enterprise (every organization, a person once), last 28 days"
    assert f"Lines of code added {loc:,} {detail}" in text
    assert f"Acceptance rate {accs / gens * 100:.1f}% {detail}" in text
    assert f"{org_loc:,}" not in text


def test_overview_without_an_enterprise_counts_each_person_once_from_member_data(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("delete from marts.fct_copilot_usage_daily where scope_type = 'enterprise'")
    # the fixture's members 1-12 are in both organizations: the same person-days, counted once
    gens, accs, loc, summed_loc = con.execute(
        """with person_days as (
               select user_id, day, max(code_generations) as g, max(code_acceptances) as a,
                      max(loc_added) as l
               from marts.fct_copilot_member_daily
               where scope_type = 'organization' and day > date '2026-11-22' - 28
               group by user_id, day)
           select sum(g), sum(a), sum(l),
                  (select sum(loc_added) from marts.fct_copilot_member_daily
                   where scope_type = 'organization' and day > date '2026-11-22' - 28)
           from person_days"""
    ).fetchall()[0]
    con.close()
    assert summed_loc > loc  # the duplicate person-day would have counted twice in a sum
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    text = _overview_kpis(parsed)
    detail = "all organizations, each person once (per-member reports), 2026-10-26 to 2026-11-22"
    assert f"Lines of code added {loc:,} {detail}" in text
    assert f"Acceptance rate {accs / gens * 100:.1f}% {detail}" in text


def test_overview_without_member_data_labels_the_sum_over_organizations(tmp_path):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb", omit=("fct_copilot_member_daily",))
    con = duckdb.connect(str(wh))
    con.execute("delete from marts.fct_copilot_usage_daily where scope_type = 'enterprise'")
    loc = _window_sums(con, "scope_type = 'organization'")[2]
    con.close()
    parsed = parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))
    assert (
        f"Lines of code added {loc:,} sum over organizations, last 28 days: "
        "a person in two organizations counts once per organization"
    ) in _overview_kpis(parsed)
