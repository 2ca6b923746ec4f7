"""Availability per (scope, report) against the real simulator and a real DuckDB file.

A report GitHub does not offer for a scope (``repos-1-day`` answering 404: newer than the other
reports, not on every plan or region) is said once, never counted as failed days, not re-fetched
day by day and not repaired as a gap, and is asked for again on a later UTC day, so it starts
loading once GitHub turns it on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from copilot_warehouse import warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.extract import availability
from copilot_warehouse.pipeline import gaps, ingest
from harness.duck import query

pytestmark = pytest.mark.integration

ORG = Scope("organization", "octo-demo")
OTHER = Scope("organization", "acme-labs")
DAYS = [date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8)]
REPOS = "repos-1-day"
TOKEN = "sim-token"




def repos_not_offered(simulator, scope: Scope = ORG):
    """Every repos-1-day report call of ``scope`` answers 404 (downloads are untouched)."""
    return simulator.faults.add("status", match=rf"{scope.api_prefix}/.*/{REPOS}/", times=None, status=404)


def repos_calls(simulator, scope: Scope = ORG) -> int:
    return simulator.count(rf"^{scope.api_prefix}/copilot/metrics/reports/{REPOS}$")


def test_a_report_not_offered_is_asked_once_and_said_once(simulator, client, paths):
    landing_root, db = paths
    repos_not_offered(simulator)
    receipts = ingest.fetch_scope_days(client, ORG, DAYS, landing_root)

    assert repos_calls(simulator) == 1  # its newest day only: the other days are not asked for
    [repos] = [r for r in receipts if r["report"] == REPOS]
    assert (repos["status"], repos["http_status"], repos["day"], repos["report_unavailable"]) == (
        "unavailable",
        404,
        DAYS[-1].isoformat(),
        True,
    )
    assert {r["status"] for r in receipts if r["report"] != REPOS} == {"landed"}

    summary = ingest.load_receipts(receipts, db, landing_root)
    assert summary["totals"]["failed"] == 0 and summary["totals"]["unavailable"] == 1
    [line] = summary["unavailable"]
    assert line.startswith("organization:octo-demo repos-1-day: not offered for this organization (HTTP 404)")
    assert line in ingest.summary_lines(summary)
    # no day of it is logged (so none is failed or missing); its state is recorded once
    assert query(db, "select count(*) from raw.ingest_log where report = ?", (REPOS,)) == [(0,)]
    assert query(
        db, "select available, http_status from raw.report_availability where report = ?", (REPOS,)
    ) == [(False, 404)]
    # the reports that answered are recorded as available
    assert query(
        db, "select count(*) from raw.report_availability where available and scope_name = 'octo-demo'"
    ) == [(3,)]


def test_a_report_found_unavailable_today_is_not_asked_again_today(simulator, client, paths):
    landing_root, db = paths
    repos_not_offered(simulator)
    ingest.load_receipts(ingest.fetch_scope_days(client, ORG, DAYS, landing_root), db, landing_root)
    today = datetime.now(UTC).date()  # the probe records the real UTC day it was made
    states = availability.latest_states(db, [ORG])
    skip = availability.reports_to_skip(states, ORG, today)
    assert list(skip) == [REPOS]

    receipts = ingest.fetch_scope_days(client, ORG, DAYS, landing_root, skip_reports=skip)
    assert repos_calls(simulator) == 1  # not asked again
    [repos] = [r for r in receipts if r["report"] == REPOS]
    assert (repos["status"], repos["day"], repos["checked"]) == ("unavailable", None, False)
    summary = ingest.load_receipts(receipts, db, landing_root)
    assert summary["unavailable"] == [skip[REPOS]]
    # the skipped report adds no probe row
    assert query(db, "select count(*) from raw.report_availability where report = ?", (REPOS,)) == [(1,)]
    # another scope is unaffected
    assert availability.reports_to_skip(states, OTHER, today) == {}


def test_a_report_is_asked_again_on_a_later_day_and_loads_once_turned_on(simulator, client, paths):
    landing_root, db = paths
    fault = repos_not_offered(simulator)
    ingest.load_receipts(ingest.fetch_scope_days(client, ORG, DAYS, landing_root), db, landing_root)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    states = availability.latest_states(db, [ORG])
    assert availability.reports_to_skip(states, ORG, tomorrow) == {}  # a new UTC day: ask again

    fault.times = fault.hits  # GitHub turns the report on
    receipts = ingest.fetch_scope_days(client, ORG, DAYS, landing_root)
    assert [r["status"] for r in receipts if r["report"] == REPOS] == ["landed"] * len(DAYS)
    ingest.load_receipts(receipts, db, landing_root)
    states = availability.latest_states(db, [ORG])
    assert states[(ORG, REPOS)].available
    assert query(db, "select count(distinct day) from raw.copilot_repos") == [(len(DAYS),)]


def test_an_older_day_answering_404_concerns_that_day_only(simulator, client, paths):
    landing_root, db = paths
    simulator.faults.add("status", match=rf"/{REPOS}/{DAYS[0].isoformat()}$", times=None, status=404)
    receipts = ingest.fetch_scope_days(client, ORG, DAYS, landing_root)
    assert [(r["day"], r["status"]) for r in receipts if r["report"] == REPOS] == [
        (DAYS[0].isoformat(), "unavailable"),
        (DAYS[1].isoformat(), "landed"),
        (DAYS[2].isoformat(), "landed"),
    ]
    ingest.load_receipts(receipts, db, landing_root)
    assert query(
        db, "select day, status from raw.ingest_log where report = ? and status <> 'loaded'", (REPOS,)
    ) == [(DAYS[0], "skipped")]
    assert availability.latest_states(db, [ORG])[(ORG, REPOS)].available


def test_gap_repair_leaves_a_report_not_offered_alone(simulator, client, paths):
    landing_root, db = paths
    repos_not_offered(simulator)
    # a 204 day in the middle makes the other reports' gap visible beside the unavailable report
    simulator.faults.add("status", match=r"/users-1-day/2026-10-07$", times=None, status=500)
    ingest.load_receipts(ingest.fetch_scope_days(client, ORG, DAYS, landing_root), db, landing_root)
    found = gaps.find_gaps(db, [ORG], date(2026, 10, 12))
    assert {(g.report, g.day) for g in found} == {("users-1-day", date(2026, 10, 7))}


def test_the_run_range_path_skips_a_report_not_offered(simulator, client, paths):
    landing_root, db = paths
    repos_not_offered(simulator)
    summary = ingest.run_range(client, [ORG], DAYS, landing_root, db)
    assert repos_calls(simulator) == 1
    assert summary["errors"] == [] and summary["totals"]["failed"] == 0
    assert summary["scopes"]["organization:octo-demo"][REPOS]["unavailable"] == 1
    with warehouse.connect(db, read_only=True) as con:
        assert con.execute("select count(*) from raw.copilot_repos").fetchall() == [(0,)]
