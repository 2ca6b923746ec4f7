"""Gap detection and freshness from raw.ingest_log, and gap repair against the real simulator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from copilot_warehouse import config
from copilot_warehouse import warehouse as wh
from copilot_warehouse.config import Scope
from copilot_warehouse.load import loader
from copilot_warehouse.pipeline import gaps, ingest

ORG = Scope(config.ORGANIZATION, "octo-demo")
OTHER = Scope(config.ORGANIZATION, "acme-labs")
TODAY = date(2026, 11, 25)
AGG = "organization-1-day"


def _log(path, entries):
    """Append (scope, report, day, status) rows through the loader's own status writer."""
    con = wh.connect(path)
    try:
        for i, (scope, report, day, status) in enumerate(entries):
            http = {"loaded": 200, "no_report": 204, "failed": 500}[status]
            loader.record_status(con, scope, report, day, status, http, None, f"load-{i:04d}")
    finally:
        con.close()


def _all_reports(scope, days, status="loaded"):
    return [(scope, r, d, status) for d in days for r in config.DAILY_REPORTS[scope.type]]


def test_no_warehouse_means_no_gaps(tmp_path):
    assert gaps.find_gaps(tmp_path / "absent.duckdb", [ORG], TODAY) == []


@pytest.mark.parametrize(
    ("later_status", "expected"),
    [
        pytest.param(None, [(AGG, date(2026, 11, 20), "no_report")], id="204 stays a gap"),
        pytest.param("loaded", [], id="204 then loaded is no gap (latest attempt wins)"),
        pytest.param("failed", [(AGG, date(2026, 11, 20), "failed")], id="204 then failed is a gap"),
    ],
)
def test_latest_attempt_decides(tmp_path, later_status, expected):
    path = tmp_path / "w.duckdb"
    days = config.day_range(date(2026, 11, 18), date(2026, 11, 22))
    entries = [e for e in _all_reports(ORG, days) if not (e[1] == AGG and e[2] == date(2026, 11, 20))]
    entries.append((ORG, AGG, date(2026, 11, 20), "no_report"))
    if later_status:
        entries.append((ORG, AGG, date(2026, 11, 20), later_status))
    _log(path, entries)
    found = gaps.find_gaps(path, [ORG], TODAY)
    assert [(g.report, g.day, g.reason) for g in found] == expected


def test_a_hole_between_loaded_days_is_missing_for_every_report(tmp_path):
    path = tmp_path / "w.duckdb"
    days = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 21)]
    _log(path, _all_reports(ORG, days) + _all_reports(OTHER, days + [date(2026, 11, 20)]))
    found = gaps.find_gaps(path, [ORG, OTHER], TODAY)
    assert {(g.scope, g.report, g.day, g.reason) for g in found} == {
        (ORG, r, date(2026, 11, 20), "missing") for r in config.DAILY_REPORTS[ORG.type]
    }
    assert found[0].describe().startswith("organization:octo-demo ")


def test_a_28_day_report_logged_under_a_later_day_does_not_make_days_missing(tmp_path):
    path = tmp_path / "w.duckdb"
    days = config.day_range(date(2026, 11, 16), date(2026, 11, 18))
    _log(path, _all_reports(ORG, days) + [(ORG, "organization-28-day", date(2026, 11, 22), "loaded")])
    assert gaps.find_gaps(path, [ORG], TODAY) == []


def test_days_outside_githubs_window_and_too_recent_days_are_not_gaps(tmp_path):
    path = tmp_path / "w.duckdb"
    today = date(2027, 1, 10)
    oldest = today - timedelta(days=config.HISTORY_KEPT_DAYS)
    _log(
        path,
        [
            (ORG, AGG, oldest - timedelta(days=1), "failed"),  # aged out
            (ORG, AGG, oldest, "failed"),  # still served
            (ORG, AGG, today - timedelta(days=1), "no_report"),  # within the publishing lag
        ]
        + _all_reports(ORG, [oldest + timedelta(days=1)]),
    )
    found = gaps.find_gaps(path, [ORG], today)
    assert {(g.report, g.day) for g in found if g.reason == "failed"} == {(AGG, oldest)}
    assert all(g.day <= today - timedelta(days=config.PUBLISH_LAG_DAYS) for g in found)
    assert all(g.day >= oldest for g in found)


def test_at_most_max_days_per_scope_newest_first(tmp_path):
    path = tmp_path / "w.duckdb"
    days = config.day_range(date(2026, 11, 1), date(2026, 11, 10))
    _log(path, [(ORG, AGG, d, "no_report") for d in days] + _all_reports(ORG, [date(2026, 11, 11)]))
    found = gaps.find_gaps(path, [ORG], TODAY, max_days=3)
    assert sorted({g.day for g in found}) == [date(2026, 11, 8), date(2026, 11, 9), date(2026, 11, 10)]


@pytest.mark.parametrize(
    ("latest_loaded", "stale"),
    [
        pytest.param(date(2026, 11, 23), False, id="2 days old: fresh"),
        pytest.param(date(2026, 11, 21), False, id="4 days old: still fresh"),
        pytest.param(date(2026, 11, 20), True, id="5 days old: stale"),
    ],
)
def test_freshness(tmp_path, latest_loaded, stale):
    path = tmp_path / "w.duckdb"
    _log(
        path,
        [(ORG, AGG, latest_loaded, "loaded"), (ORG, AGG, latest_loaded + timedelta(days=1), "no_report")],
    )
    (fresh, never) = gaps.check_freshness(path, [ORG, OTHER], TODAY)
    assert (fresh.latest_day, fresh.stale) == (latest_loaded, stale)
    assert never.stale and never.latest_day is None
    assert "octo-demo" in fresh.message and ("STALE" in fresh.message) == stale


def test_freshness_on_the_simulator_says_where_its_data_ends(tmp_path):
    """The simulator's history ends on a fixed day: its age is no failure, so no STALE and no alert."""
    path = tmp_path / "w.duckdb"
    _log(path, [(ORG, AGG, date(2026, 11, 12), "loaded")])  # 13 days before TODAY
    (fresh, never) = gaps.check_freshness(path, [ORG, OTHER], TODAY, simulator_last_day=date(2026, 11, 12))
    assert (fresh.latest_day, fresh.stale) == (date(2026, 11, 12), False)
    assert fresh.message == (
        "organization:octo-demo: newest report day 2026-11-12 "
        "(the bundled simulator's data ends on 2026-11-12)"
    )
    assert "STALE" not in fresh.message
    assert never.stale and never.message.endswith("no report day has been loaded yet")


def test_the_simulator_last_day_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(config.ENV_SIMULATOR_LAST_DAY, raising=False)
    assert config.simulator_last_day() is None
    monkeypatch.setenv(config.ENV_SIMULATOR_LAST_DAY, "2026-11-22")
    assert config.simulator_last_day() == date(2026, 11, 22)
    monkeypatch.setenv(config.ENV_SIMULATOR_LAST_DAY, "soon")
    with pytest.raises(config.ConfigError, match="COPILOT_SIMULATOR_LAST_DAY"):
        config.simulator_last_day()


def test_freshness_reads_the_daily_reports_only(tmp_path):
    """A 28-day report is logged under its end day: it must not make stalled daily data look fresh."""
    path = tmp_path / "w.duckdb"
    _log(
        path,
        [
            (ORG, AGG, date(2026, 11, 12), "loaded"),
            (ORG, "organization-28-day", date(2026, 11, 24), "loaded"),
        ],
    )
    (fresh, never) = gaps.check_freshness(path, [ORG, OTHER], TODAY)
    assert (fresh.latest_day, fresh.stale) == (date(2026, 11, 12), True)


@pytest.mark.integration
def test_gap_answered_204_is_repaired_once_the_report_arrives(tmp_path, make_simulator):
    """A day GitHub had not published (204) is listed, re-fetched later, loaded, and no longer a gap."""
    path, landing = tmp_path / "w.duckdb", str(tmp_path / "landing")
    first, last = date(2026, 11, 16), date(2026, 11, 20)
    early = make_simulator(
        orgs=("octo-demo",), enterprises=(), users_per_org=8, end_day=last - timedelta(days=1)
    )
    client = _client(early)
    ingest.load_receipts(
        ingest.fetch_scope_days(client, ORG, config.day_range(first, last), landing), path, landing
    )
    found = gaps.find_gaps(path, [ORG], TODAY)
    assert {(g.day, g.reason) for g in found} == {(last, "no_report")}
    assert {g.report for g in found} == set(config.DAILY_REPORTS[ORG.type])

    published = make_simulator(orgs=("octo-demo",), enterprises=(), users_per_org=8, end_day=last)
    client = _client(published)
    receipts = [ingest.fetch_report(client, g.scope, g.report, g.day, landing) for g in found]
    assert len(published.requests) == len(found) + sum(r["parts"] for r in receipts)  # only the gaps
    ingest.load_receipts(receipts, path, landing)
    assert gaps.find_gaps(path, [ORG], TODAY) == []


def _client(server):
    from copilot_warehouse.extract.client import CopilotClient

    return CopilotClient(server.url, server.config.token)


def test_make_run_tells_the_dags_when_the_data_comes_from_the_simulator(monkeypatch, tmp_path):
    """The Airflow environment of `make run` carries the simulator's last day; for real GitHub it
    is removed (even when the caller's shell still has it), so the STALE wording stays there."""
    from dataclasses import replace

    from copilot_dev import airflow_env
    from copilot_dev import run as make_run

    monkeypatch.setattr(airflow_env, "prepare", lambda env: None)
    monkeypatch.setattr(airflow_env, "DEFAULT_HOME", tmp_path / "airflow")
    monkeypatch.setenv(config.ENV_SIMULATOR_LAST_DAY, "2026-01-01")
    sim = make_run.Source(
        connection="{}",
        orgs=["octo-demo"],
        enterprises=[],
        start=date(2026, 11, 20),
        end=date(2026, 11, 22),
        label="the bundled simulator",
        simulator_last_day=date(2026, 11, 22),
    )
    assert make_run._prepared_env(sim)[config.ENV_SIMULATOR_LAST_DAY] == "2026-11-22"
    assert config.ENV_SIMULATOR_LAST_DAY not in make_run._prepared_env(replace(sim, simulator_last_day=None))
