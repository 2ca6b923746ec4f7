"""Fetch, land and load against the real simulator (HTTP on 127.0.0.1) and a real DuckDB file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from copilot_warehouse import config, warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.extract.client import CopilotClient
from copilot_warehouse.land import zone
from copilot_warehouse.pipeline import ingest
from harness.duck import query
from harness.files import content

pytestmark = pytest.mark.integration

ORG = Scope("organization", "octo-demo")
ENT = Scope("enterprise", "octo-enterprise")
DAYS = [date(2026, 10, 6), date(2026, 10, 7)]
BEFORE_HISTORY = date(2026, 10, 1)  # before the simulator's start_day: 204
TOKEN = "sim-token"




def assert_no_secrets(landing_root: Path, db: Path) -> None:
    """Neither the token nor any part of a signed link is in the landing zone or the warehouse."""
    needles = (TOKEN, "signature=", "expires=", "/downloads/")
    for path in landing_root.rglob("*"):
        if path.is_file():
            text = content(path).decode(errors="replace")  # .gz landing parts decompressed
            assert not [n for n in needles if n in text], path
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'raw' and data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        for table, column in columns:
            for needle in needles:
                hits = con.execute(
                    f'select count(*) from raw."{table}" where "{column}"::varchar like ?', (f"%{needle}%",)
                ).fetchall()[0][0]
                assert hits == 0, f"{needle!r} found in raw.{table}.{column}"
    finally:
        con.close()


def test_fetch_and_load_match_the_simulated_data(simulator, client, paths):
    landing_root, db = paths
    receipts = ingest.fetch_scope_days(client, ORG, [*DAYS, BEFORE_HISTORY], landing_root)

    json.dumps(receipts)  # fit for XCom
    reports = config.DAILY_REPORTS["organization"]
    assert [(r["day"], r["report"], r["status"]) for r in receipts] == [
        *[("2026-10-01", report, "no_report") for report in reports],
        *[(day.isoformat(), report, "landed") for day in DAYS for report in reports],
    ]
    report_calls = simulator.count(r"/copilot/metrics/reports/")
    assert report_calls == 3 * len(reports), "one report call per (report, day)"

    summary = ingest.load_receipts(receipts, db, landing_root)

    data = simulator.dataset
    for day in DAYS:
        assert query(db, "select count(*) from raw.copilot_usage_users where day = ?", (day,)) == [
            (len(data.users(ORG, day)),)
        ]
        assert query(db, "select count(*) from raw.copilot_user_teams where day = ?", (day,)) == [
            (len(data.user_teams(ORG, day)),)
        ]
        [(record,)] = query(
            db, "select record::varchar from raw.copilot_usage_aggregate where day = ?", (day,)
        )
        assert json.loads(record) == data.aggregate(ORG, day)
        assert query(db, "select count(*) from raw.copilot_repos where day = ?", (day,)) == [
            (len(data.repos(ORG, day)),)
        ]
    users = summary["scopes"]["organization:octo-demo"]["users-1-day"]
    assert users == {
        "days_loaded": 2,
        "records": sum(len(data.users(ORG, d)) for d in DAYS),
        "quarantined": 0,
        "duplicates": 0,
        "no_report": 1,
        "failed": 0,
        "skipped": 0,
        "unavailable": 0,
    }
    assert query(db, "select status, count(*) from raw.ingest_log group by all order by 1") == [
        ("loaded", 2 * len(reports)),
        ("no_report", len(reports)),
    ]
    assert_no_secrets(landing_root, db)


def test_an_expired_link_is_asked_for_again(simulator, client, paths):
    landing_root, db = paths
    fault = simulator.faults.add("expired_link", match=r"users-1-day/2026-10-06/part-2", times=1)
    [receipt] = ingest.fetch_scope_days(client, ORG, [DAYS[0]], landing_root, reports=["users-1-day"])
    assert fault.hits == 1
    assert (receipt["status"], receipt["retries"], receipt["parts"]) == ("landed", 1, 2)
    assert simulator.count(r"/reports/users-1-day") == 2
    ingest.load_receipts([receipt], db, landing_root)
    assert query(db, "select count(*) from raw.copilot_usage_users") == [
        (len(simulator.dataset.users(ORG, DAYS[0])),)
    ]


def test_links_that_keep_expiring_fail_that_day_only(simulator, client, paths):
    landing_root, db = paths
    simulator.faults.add("expired_link", match=r"users-1-day/2026-10-06/", times=None)
    receipts = ingest.fetch_scope_days(client, ORG, DAYS, landing_root, reports=["users-1-day"])
    assert [(r["day"], r["status"]) for r in receipts] == [("2026-10-06", "failed"), ("2026-10-07", "landed")]
    assert simulator.count(r"/reports/users-1-day") == 1 + ingest.MAX_LINK_REFRESHES + 1
    assert "expired" in receipts[0]["message"].lower()
    assert zone.read_manifest(landing_root, ORG, "users-1-day", DAYS[0]) is None, "nothing half-landed"


def test_an_api_error_on_one_day_is_a_failed_receipt_and_the_run_goes_on(simulator, client, paths):
    landing_root, db = paths
    simulator.faults.add("status", match=r"users-1-day/2026-10-06$", times=None, where="api", status=500)
    receipts = ingest.fetch_scope_days(client, ORG, DAYS, landing_root, reports=["users-1-day"])
    failed, landed = receipts
    assert (failed["status"], failed["http_status"], landed["status"]) == ("failed", 500, "landed")
    assert "organization:octo-demo users-1-day 2026-10-06" in failed["message"]
    assert failed["retries"] >= 1

    summary = ingest.load_receipts(receipts, db, landing_root)
    assert summary["scopes"]["organization:octo-demo"]["users-1-day"]["failed"] == 1
    assert query(db, "select day::varchar, status, http_status from raw.ingest_log order by day") == [
        ("2026-10-06", "failed", 500),
        ("2026-10-07", "loaded", 200),
    ]


def test_when_every_call_fails_the_fetch_raises_without_leaking_the_token(simulator, paths):
    landing_root, _ = paths
    with (
        CopilotClient(simulator.url, "wrong-token-123", max_attempts=1) as bad,
        pytest.raises(ingest.IngestError, match="report calls failed") as info,
    ):
        ingest.fetch_scope_days(bad, ORG, [DAYS[0]], landing_root)
    assert "wrong-token-123" not in str(info.value)
    assert "HTTP 401" in str(info.value)


@pytest.mark.parametrize(
    "kind, opts, quarantined, duplicates",
    [
        pytest.param("malformed_line", {}, 2, 0, id="a malformed line in each part"),
        pytest.param("json_array", {}, 0, 0, id="parts served as JSON arrays"),
        pytest.param("repeated_records", {"count": 3}, 0, 6, id="records repeated across parts"),
        pytest.param("bad_counters", {}, 4, 0, id="negative and non-numeric counters"),
        pytest.param("unknown_fields", {"fields": {"new_metric_sum": 5}}, 0, 0, id="unknown fields"),
    ],
)
def test_data_faults_are_quarantined_or_deduplicated(
    simulator, client, paths, kind, opts, quarantined, duplicates
):
    landing_root, db = paths
    simulator.faults.add(kind, match=r"users-1-day/2026-10-06/", **opts)
    receipts = ingest.fetch_scope_days(client, ORG, [DAYS[0]], landing_root, reports=["users-1-day"])
    summary = ingest.load_receipts(receipts, db, landing_root)
    counts = summary["scopes"]["organization:octo-demo"]["users-1-day"]
    expected_users = len(simulator.dataset.users(ORG, DAYS[0]))
    assert (counts["quarantined"], counts["duplicates"]) == (quarantined, duplicates)
    assert counts["records"] == expected_users - (quarantined if kind == "bad_counters" else 0)
    assert query(db, "select count(*) from raw.quarantine") == [(quarantined,)]
    if kind == "unknown_fields":
        assert query(db, "select first_day::varchar from raw.schema_keys where key = 'new_metric_sum'") == [
            ("2026-10-06",)
        ]


def test_latest_28_day_reports_land_under_their_end_day(simulator, client, paths):
    landing_root, db = paths
    receipts = ingest.fetch_latest_28_day(client, ENT, landing_root)
    start, end = simulator.dataset.window_28_day()
    assert [(r["report"], r["day"], r["status"]) for r in receipts] == [
        ("enterprise-28-day", end.isoformat(), "landed"),
        ("users-28-day", end.isoformat(), "landed"),
    ]
    ingest.load_receipts(receipts, db, landing_root)
    assert query(
        db,
        "select report, count(*), min(report_start_day)::varchar, max(report_end_day)::varchar "
        "from raw.copilot_reports_28_day group by all order by 1",
    ) == [
        ("enterprise-28-day", 1, start.isoformat(), end.isoformat()),
        ("users-28-day", len(simulator.dataset.users_28_day(ENT)), start.isoformat(), end.isoformat()),
    ]


def test_the_seats_snapshot_lands_and_loads(simulator, client, paths):
    landing_root, db = paths
    day = date(2026, 11, 22)
    receipts = ingest.fetch_scope_snapshot(client, ORG, day, landing_root)
    assert receipts[0]["status"] == "landed" and receipts[0]["records"] == len(simulator.dataset.seats(ORG))
    ingest.load_receipts(receipts, db, landing_root)
    assert query(db, "select count(*) from raw.copilot_seats where snapshot_day = ?", (day,)) == [
        (len(simulator.dataset.seats(ORG)),)
    ]
    [(billing,)] = query(db, "select record::varchar from raw.copilot_billing")
    assert json.loads(billing) == simulator.dataset.billing(ORG)
    assert_no_secrets(landing_root, db)


def test_run_range_fetches_every_scope_then_loads_once(simulator, client, paths):
    landing_root, db = paths
    summary = ingest.run_range(client, [ORG, ENT], DAYS, landing_root, db, snapshot_day=DAYS[-1])
    calls = len(DAYS) * (len(config.DAILY_REPORTS["organization"]) + len(config.DAILY_REPORTS["enterprise"]))
    assert summary["receipts"] == {"landed": calls + 2}
    assert summary["errors"] == []
    data = simulator.dataset
    for scope in (ORG, ENT):
        expected = sum(len(data.users(scope, d)) for d in DAYS)
        assert query(
            db, "select count(*) from raw.copilot_usage_users where scope_name = ?", (scope.name,)
        ) == [(expected,)]
    # Loading the same landing zone again (e.g. a retried task) changes nothing.
    before = query(db, "select * exclude (_load_id, _loaded_at) from raw.copilot_usage_users order by all")
    ingest.load_receipts(ingest.landed_receipts(landing_root), db, landing_root)
    after = query(db, "select * exclude (_load_id, _loaded_at) from raw.copilot_usage_users order by all")
    assert after == before


def test_load_receipts_waits_for_the_lock_then_gives_up(simulator, client, paths):
    landing_root, db = paths
    receipts = ingest.fetch_scope_days(client, ORG, [DAYS[0]], landing_root, reports=["users-1-day"])
    holder = warehouse.connect(db)
    try:
        with pytest.raises(warehouse.WarehouseLockedError):
            # the same process holds a read-write handle on another database instance
            _locked_load(receipts, db, landing_root)
    finally:
        holder.close()
    ingest.load_receipts(receipts, db, landing_root, lock_timeout=5)
    assert query(db, "select count(*) from raw.copilot_usage_users") == [
        (len(simulator.dataset.users(ORG, DAYS[0])),)
    ]


def _locked_load(receipts, db, landing_root):
    """Run load_receipts in a child process while this process holds the write lock."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from copilot_warehouse import warehouse\n"
        "from copilot_warehouse.pipeline import ingest\n"
        "try:\n"
        "    ingest.load_receipts(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], lock_timeout=1)\n"
        "except warehouse.WarehouseLockedError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(receipts), str(db), str(landing_root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode == 3:
        raise warehouse.WarehouseLockedError(done.stdout.strip())
    raise AssertionError(f"expected the lock error, got rc={done.returncode}: {done.stderr[-500:]}")


def test_run_range_error_names_the_failed_load_and_the_scope_that_could_not_be_fetched(
    simulator, client, paths, monkeypatch
):
    landing_root, db = paths
    ghost = Scope("organization", "ghost-org")  # every call is a 404
    real_load = ingest.loader.load_partition

    def load(con, scope, report, day, *args, **kwargs):
        if report == "users-1-day" and str(day) == str(DAYS[0]):
            raise ingest.loader.LoadError(f"{scope.label} {report} {day}: planted load failure")
        return real_load(con, scope, report, day, *args, **kwargs)

    monkeypatch.setattr(ingest.loader, "load_partition", load)
    with pytest.raises(ingest.IngestError) as info:
        ingest.run_range(client, [ghost, ORG], DAYS, landing_root, db)
    message = str(info.value)
    assert "planted load failure" in message
    assert "organization:ghost-org: all" in message and "HTTP 404" in message


def test_run_range_reports_a_scope_whose_every_call_failed_and_loads_the_others(simulator, client, paths):
    landing_root, db = paths
    ghost = Scope("organization", "ghost-org")  # unknown to the simulator: every call is a 404
    summary = ingest.run_range(client, [ghost, ORG], DAYS, landing_root, db)
    [error] = summary["errors"]
    assert error.startswith("organization:ghost-org: all") and "HTTP 404" in error
    # its newest day's 404 ends each report: one call per report, none counted as a failed day
    ghost_users = summary["scopes"]["organization:ghost-org"]["users-1-day"]
    assert (ghost_users["unavailable"], ghost_users["failed"]) == (1, 0)
    assert summary["fetch_seconds"] > 0 and summary["load_seconds"] > 0
    assert query(db, "select count(*) from raw.copilot_usage_users where scope_name = 'octo-demo'") == [
        (sum(len(simulator.dataset.users(ORG, d)) for d in DAYS),)
    ]
    # no failed days are logged for it; each report is recorded once as not offered (HTTP 404)
    assert query(db, "select count(*) from raw.ingest_log where scope_name = 'ghost-org'") == [(0,)]
    assert query(
        db,
        "select report, available, http_status from raw.report_availability "
        "where scope_name = 'ghost-org' order by report",
    ) == [(r, False, 404) for r in sorted(config.DAILY_REPORTS["organization"])]
