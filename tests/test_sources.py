"""Every Copilot data source, fetched from the simulator over HTTP and loaded into a real DuckDB file.

One section per source (reference §3-§4 and the legacy API of §2):

- the daily usage-metrics reports of an organization and of an enterprise (``*-1-day``,
  ``users-1-day``, ``user-teams-1-day``, ``repos-1-day``) land record for record in ``raw``;
- an enterprise whose members sit in two of its orgs counts each member once;
- the ``*-28-day/latest`` reports land under their end day;
- the seats and billing snapshot keeps every page of seats, keyed by snapshot day;
- the legacy ``/copilot/metrics`` API pages with ``since``/``until``; its 404 means "retired";
- schema drift: an unknown field lands and is recorded in ``raw.schema_keys``, a missing one is
  not an error;
- the Connection's ``X-GitHub-Api-Version`` reaches the wire, GHE.com hosts become API hosts.

What is expected is computed from the simulator's ``Dataset`` (the same records the server
sends), never written down by hand.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from copilot_warehouse import config, warehouse
from copilot_warehouse.config import ENTERPRISE, ORGANIZATION, Scope
from copilot_warehouse.extract import client as client_module
from copilot_warehouse.extract.client import CopilotApiError, CopilotClient, LegacyApiRetiredError
from copilot_warehouse.pipeline import ingest, schedule
from harness.duck import query

pytestmark = pytest.mark.integration

TOKEN = "sim-token"
ORG = Scope(ORGANIZATION, "octo-demo")
OTHER_ORG = Scope(ORGANIZATION, "acme-labs")
ENT = Scope(ENTERPRISE, "octo-enterprise")
DAY = date(2026, 10, 21)
NEXT_DAY = date(2026, 10, 22)
SNAPSHOT_DAY = date(2026, 11, 23)


@pytest.fixture
def paths(tmp_path) -> tuple[Path, Path]:
    """(landing root, warehouse file) in a fresh temporary folder."""
    return tmp_path / "landing", tmp_path / "warehouse.duckdb"


def make_client(server, **kwargs) -> CopilotClient:
    """A client for a simulator that never sleeps between retries."""
    settings = {"max_attempts": 3, "backoff": 0.01, "max_wait": 0.5, "sleep": lambda s: None, **kwargs}
    return CopilotClient(server.url, TOKEN, **settings)


@pytest.fixture
def client(simulator):
    with make_client(simulator) as c:
        yield c



def fetch_and_load(client, scope, days, paths, reports=None) -> tuple[list[dict], dict]:
    """Fetch the reports of ``days`` into the landing zone and load them (the DAG's two steps)."""
    landing_root, db = paths
    receipts = ingest.fetch_scope_days(client, scope, days, landing_root, reports)
    return receipts, ingest.load_receipts(receipts, db, landing_root)


def raw_records(db: Path, table: str, scope: Scope, report: str, day: date) -> list[dict]:
    rows = query(
        db,
        f"select record::varchar from {table} where scope_type = ? and scope_name = ? and report = ? "
        "and day = ? order by _part, _line",
        (scope.type, scope.name, report, day),
    )
    return [json.loads(r[0]) for r in rows]


def served_records(simulator, scope: Scope, report: str, day: date | None) -> list[dict]:
    return [json.loads(line) for line in simulator.dataset.report_lines(scope, report, day) or []]


# --- daily usage-metrics reports, organizations and enterprises -----------------------------------
DAILY = [
    pytest.param(scope, report, id=f"{scope.type} {report}")
    for scope in (ORG, ENT)
    for report in config.DAILY_REPORTS[scope.type]
]


@pytest.mark.parametrize(("scope", "report"), DAILY)
def test_each_daily_report_lands_raw_record_for_record(simulator, client, paths, scope, report):
    receipts, summary = fetch_and_load(client, scope, [DAY], paths, [report])
    expected = served_records(simulator, scope, report, DAY)
    assert expected, "precondition: the simulator serves records for this report and day"
    assert [r["status"] for r in receipts] == ["landed"]
    table = warehouse.REPORT_TABLES[report][0]
    got = raw_records(paths[1], table, scope, report, DAY)
    key = json.dumps
    assert sorted(map(key, got)) == sorted(map(key, expected))  # untouched, none lost, none added
    assert summary["totals"]["records"] == len(expected)
    sources = query(paths[1], f"select distinct _source from {table}")
    assert sources == [("usage_metrics",)]


def test_the_enterprises_variable_adds_enterprise_scopes():
    scopes = schedule.parse_scopes('["octo-demo", "acme-labs"]', '["octo-enterprise"]')
    assert scopes == [ORG, OTHER_ORG, ENT]
    assert {s.type for s in scopes} == {ORGANIZATION, ENTERPRISE}


def test_an_enterprise_counts_a_member_of_two_orgs_once(simulator, client, paths):
    db = paths[1]
    for scope in (ORG, OTHER_ORG, ENT):
        fetch_and_load(client, scope, [DAY], paths, ["users-1-day", f"{scope.type}-1-day"])

    def ids(scope: Scope) -> list[int]:
        rows = query(
            db,
            "select user_id from raw.copilot_usage_users where scope_name = ? and day = ?",
            (scope.name, DAY),
        )
        return [r[0] for r in rows]

    in_both = set(ids(ORG)) & set(ids(OTHER_ORG))
    assert in_both, "precondition: some member is active in both orgs that day"
    enterprise_ids = ids(ENT)
    assert sorted(enterprise_ids) == sorted(set(ids(ORG)) | set(ids(OTHER_ORG)))  # one row each
    (dau,) = query(
        db,
        "select (record ->> '$.daily_active_users')::bigint from raw.copilot_usage_aggregate "
        "where scope_type = 'enterprise' and day = ?",
        (DAY,),
    )[0]
    assert dau == len(enterprise_ids) == len(ids(ORG)) + len(ids(OTHER_ORG)) - len(in_both)


def test_repos_reports_are_kept_raw_per_repository(simulator, client, paths):
    for scope in (ORG, ENT):
        fetch_and_load(client, scope, [DAY], paths, ["repos-1-day"])
        expected = {str(r["repository_id"]) for r in simulator.dataset.repos(scope, DAY)}
        rows = query(
            paths[1],
            "select repo_key, record ->> '$.repository_name' from raw.copilot_repos "
            "where scope_type = ? and day = ?",
            (scope.type, DAY),
        )
        assert {key for key, _ in rows} == expected
        assert all(name and "/" in name for _, name in rows)  # "owner/repo"


# --- 28-day reports ------------------------------------------------------------------------------
@pytest.mark.parametrize("scope", [pytest.param(ORG, id="organization"), pytest.param(ENT, id="enterprise")])
def test_latest_28_day_reports_land_under_their_end_day(simulator, client, paths, scope):
    landing_root, db = paths
    receipts = ingest.fetch_latest_28_day(client, scope, landing_root)
    ingest.load_receipts(receipts, db, landing_root)
    start, end = simulator.dataset.window_28_day()
    assert {r["report"] for r in receipts} == set(config.LATEST_28_DAY_REPORTS[scope.type])
    assert {(r["day"], r["report_start_day"]) for r in receipts} == {(end.isoformat(), start.isoformat())}
    rows = query(
        db,
        "select report, count(*), min(report_start_day), max(report_end_day) "
        "from raw.copilot_reports_28_day where scope_name = ? group by report order by report",
        (scope.name,),
    )
    users = len(simulator.dataset.users_28_day(scope))
    assert rows == sorted([(f"{scope.type}-28-day", 1, start, end), ("users-28-day", users, start, end)])
    (day_totals,) = query(
        db,
        "select json_array_length(record -> '$.day_totals') from raw.copilot_reports_28_day "
        "where scope_name = ? and line_key = 'totals'",
        (scope.name,),
    )[0]
    assert day_totals == 28


# --- seats and billing ---------------------------------------------------------------------------
def test_every_page_of_seats_is_snapshotted_one_row_per_seat_object(make_simulator, paths):
    server = make_simulator(users_per_org=130)  # more than one page of 100 seats per org
    landing_root, db = paths
    with make_client(server) as c:
        receipts = [ingest.fetch_snapshot(c, scope, landing_root, SNAPSHOT_DAY) for scope in (ORG, ENT)]
        ingest.load_receipts(receipts, db, landing_root)
    for scope in (ORG, ENT):
        seats = server.dataset.seats(scope)
        pages = -(-len(seats) // client_module.SEATS_PER_PAGE)
        assert pages >= 2, "precondition: several pages"
        assert server.count(rf"^{scope.api_prefix}/copilot/billing/seats$", 200) == pages
        rows = query(
            db,
            "select user_id, record ->> '$.organization.login' from raw.copilot_seats "
            "where scope_type = ? and snapshot_day = ?",
            (scope.type, SNAPSHOT_DAY),
        )
        assert sorted(r[0] for r in rows) == sorted(s["assignee"]["id"] for s in seats)
    enterprise_users = query(
        db,
        "select count(*), count(distinct user_id) from raw.copilot_seats where scope_type = 'enterprise'",
    )[0]
    assert enterprise_users[0] > enterprise_users[1], "a member of two orgs has one seat object per org"
    billing = query(db, "select scope_name, snapshot_day, record::varchar from raw.copilot_billing")
    assert [(name, day) for name, day, _ in billing] == [(ORG.name, SNAPSHOT_DAY)]
    assert json.loads(billing[0][2]) == server.dataset.billing(ORG)


def test_each_snapshot_day_is_kept_and_a_rerun_replaces_only_its_day(simulator, client, paths):
    landing_root, db = paths
    for day in (SNAPSHOT_DAY, date(2026, 11, 24), SNAPSHOT_DAY):
        ingest.load_receipts([ingest.fetch_snapshot(client, ORG, landing_root, day)], db, landing_root)
    rows = query(db, "select snapshot_day, count(*) from raw.copilot_seats group by 1 order by 1")
    seats = len(simulator.dataset.seats(ORG))
    assert rows == [(SNAPSHOT_DAY, seats), (date(2026, 11, 24), seats)]


# --- the legacy Copilot Metrics API --------------------------------------------------------------
def test_legacy_metrics_follow_link_pages_between_since_and_until(make_simulator, monkeypatch):
    server = make_simulator(legacy_start=date(2026, 3, 1), legacy_end=date(2026, 4, 1))
    monkeypatch.setattr(client_module, "LEGACY_PER_PAGE", 7)  # several pages from a month
    since, until = date(2026, 3, 3), date(2026, 3, 30)
    with make_client(server) as c:
        days = c.legacy_metrics(ORG, since, until)
    expected = server.dataset.legacy_days(ORG, since, until)
    assert days == expected
    assert [d["date"] for d in days] == [d.isoformat() for d in config.day_range(since, until)]
    assert server.count(r"^/orgs/octo-demo/copilot/metrics$", 200) == -(-len(expected) // 7)


@pytest.mark.parametrize(
    ("legacy_range", "since", "until"),
    [
        pytest.param(None, date(2026, 4, 3), date(2026, 4, 20), id="after the closure: every call 404"),
        pytest.param(
            (date(2026, 1, 1), date(2026, 4, 1)),
            date(2026, 3, 20),
            date(2026, 4, 10),
            id="range past the end",
        ),
    ],
)
def test_a_legacy_404_is_reported_as_retired_and_never_retried(make_simulator, legacy_range, since, until):
    start, end = legacy_range or (None, None)
    server = make_simulator(legacy_start=start, legacy_end=end)
    with make_client(server, max_attempts=5) as c, pytest.raises(LegacyApiRetiredError) as caught:
        c.legacy_metrics(ORG, since, until)
    assert caught.value.status == 404
    assert "retired by GitHub on 2026-04-02" in str(caught.value)
    assert "make import-legacy" in str(caught.value)  # says what to do instead
    assert server.count(r"/copilot/metrics$") == 1
    assert c.stats["retries"] == 0


def test_a_live_legacy_answer_lands_and_imports_like_an_archive(make_simulator, paths):
    from copilot_warehouse.extract import legacy

    server = make_simulator(legacy_start=date(2026, 3, 1), legacy_end=date(2026, 4, 1))
    landing_root, db = paths
    since, until = date(2026, 3, 10), date(2026, 3, 23)
    with make_client(server) as c:
        receipt = legacy.fetch_legacy(c, ORG, since, until, landing_root)
    expected = server.dataset.legacy_days(ORG, since, until)
    assert (receipt["status"], receipt["records"], receipt["day"]) == (
        "landed",
        len(expected),
        until.isoformat(),
    )
    con = warehouse.connect(db)
    try:
        done = legacy.import_landed(con, ORG, until, landing_root, "load-legacy")
    finally:
        con.close()
    assert done["days"] == len(expected)
    rows = query(db, "select day, record::varchar, _source from raw.copilot_legacy_metrics order by day")
    assert [(d, json.loads(r), src) for d, r, src in rows] == [
        (date.fromisoformat(o["date"]), o, "legacy_metrics") for o in expected
    ]


def test_a_live_legacy_fetch_after_the_closure_is_a_retired_receipt(simulator, client, paths):
    from copilot_warehouse.extract import legacy

    receipt = legacy.fetch_legacy(client, ORG, date(2026, 4, 3), date(2026, 4, 20), paths[0])
    assert (receipt["status"], receipt["http_status"]) == ("retired", 404)
    assert "retired by GitHub on 2026-04-02" in receipt["message"]
    assert simulator.count(r"/copilot/metrics$") == 1
    assert not paths[0].exists() or not any(paths[0].rglob("*.json"))  # nothing landed


# --- schema drift --------------------------------------------------------------------------------
def test_an_unknown_field_lands_and_is_recorded_with_its_first_day(simulator, client, paths):
    db = paths[1]
    fetch_and_load(client, ORG, [DAY], paths, ["users-1-day"])
    simulator.faults.add("unknown_fields", match=rf"users-1-day/{NEXT_DAY}", fields={"future_counter_sum": 5})
    receipts, summary = fetch_and_load(client, ORG, [NEXT_DAY], paths, ["users-1-day"])
    assert [r["status"] for r in receipts] == ["landed"]
    expected = len(simulator.dataset.users(ORG, NEXT_DAY))
    assert summary["totals"] == {**summary["totals"], "records": expected, "quarantined": 0}
    assert summary["errors"] == []
    kept = query(
        db,
        "select count(*) from raw.copilot_usage_users "
        "where day = ? and (record ->> '$.future_counter_sum') = '5'",
        (NEXT_DAY,),
    )
    assert kept == [(expected,)]  # the new field is in every record, untouched
    keys = dict(query(db, "select key, first_day from raw.schema_keys where report = 'users-1-day'"))
    assert keys["future_counter_sum"] == NEXT_DAY  # new: first seen after the report's first day
    assert keys["user_id"] == DAY


def test_a_missing_field_is_not_an_error_and_its_key_stops_being_seen(simulator, client, paths):
    db = paths[1]
    fetch_and_load(client, ORG, [DAY], paths, ["users-1-day"])
    simulator.faults.add(
        "missing_fields", match=rf"users-1-day/{NEXT_DAY}", fields=["used_cli", "loc_added_sum"]
    )
    receipts, summary = fetch_and_load(client, ORG, [NEXT_DAY], paths, ["users-1-day"])
    assert summary["totals"]["records"] == len(simulator.dataset.users(ORG, NEXT_DAY))
    assert summary["totals"]["quarantined"] == 0
    lacking = query(
        db,
        "select count(*) from raw.copilot_usage_users "
        "where day = ? and (record -> '$.loc_added_sum') is null",
        (NEXT_DAY,),
    )
    assert lacking == [(summary["totals"]["records"],)]
    last_seen = dict(query(db, "select key, last_day from raw.schema_keys where report = 'users-1-day'"))
    assert last_seen["loc_added_sum"] == DAY
    assert last_seen["user_id"] == NEXT_DAY


# --- connection settings -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "sent"),
    [
        pytest.param({}, "2026-03-10", id="default version"),
        pytest.param({"api_version": "2022-11-28"}, "2022-11-28", id="version from the Connection extra"),
    ],
)
def test_the_api_version_header_comes_from_the_connection(simulator, monkeypatch, extra, sent):
    from copilot_airflow.hooks import GitHubCopilotHook

    conn = {"conn_type": "http", "host": simulator.url, "password": TOKEN, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_COPILOT", json.dumps(conn))
    c = GitHubCopilotHook().get_conn()
    seen: list[str] = []
    c.session.hooks["response"].append(
        lambda r, *a, **k: seen.append(r.request.headers["X-GitHub-Api-Version"])
    )
    assert c.report_links(ORG, "organization-1-day", DAY) is not None
    assert seen == [sent]


def test_an_api_version_github_does_not_know_is_a_clear_400(simulator):
    with make_client(simulator, api_version="2099-01-01") as c, pytest.raises(CopilotApiError) as caught:
        c.report_links(ORG, "organization-1-day", DAY)
    assert caught.value.status == 400
    assert simulator.count(r"organization-1-day$", 400) == 1  # not retried


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        pytest.param("octocorp.ghe.com", "https://api.octocorp.ghe.com", id="GHE.com tenant"),
        pytest.param("https://api.octocorp.ghe.com/", "https://api.octocorp.ghe.com", id="GHE.com API host"),
        pytest.param("github.com", "https://api.github.com", id="github.com"),
    ],
)
def test_data_residency_hosts_become_their_api_host(monkeypatch, host, base_url):
    from copilot_airflow.hooks import GitHubCopilotHook

    conn = {"conn_type": "http", "host": host, "password": TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_COPILOT", json.dumps(conn))
    c = GitHubCopilotHook().get_conn()
    assert c.base_url == base_url
    assert c._url(f"{ENT.api_prefix}/copilot/metrics/reports/enterprise-1-day") == (
        f"{base_url}/enterprises/octo-enterprise/copilot/metrics/reports/enterprise-1-day"
    )


# --- what the ingest DAG fetches -----------------------------------------------------------------
@pytest.fixture(scope="module")
def dag_fetch():
    """The ingest DAG's ``fetch`` task as a plain function (what each mapped scope runs)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(
        dag_folder=str(Path(__file__).parents[1] / "dags" / "copilot_usage_ingest.py"), safe_mode=False
    )
    return bag.dags["copilot_usage_ingest"].get_task("ingest_scope.fetch").python_callable


def run_dag_fetch(dag_fetch, simulator, monkeypatch, tmp_path, scope: Scope) -> list[dict]:
    conn = {"conn_type": "http", "host": simulator.url, "password": TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_COPILOT", json.dumps(conn))
    monkeypatch.setenv(config.ENV_LANDING, str(tmp_path / "landing"))
    work = {
        "scope": scope.as_dict(),
        "days": [DAY.isoformat()],
        "gap_days": [],
        "gap_partitions": [],
        "snapshot_day": SNAPSHOT_DAY.isoformat(),
    }
    return dag_fetch(work)


@pytest.mark.parametrize("scope", [pytest.param(ORG, id="organization"), pytest.param(ENT, id="enterprise")])
def test_the_ingest_dag_fetches_every_report_of_the_scope_and_its_seats(
    dag_fetch, simulator, monkeypatch, tmp_path, scope
):
    receipts = run_dag_fetch(dag_fetch, simulator, monkeypatch, tmp_path, scope)
    landed = {r["report"] for r in receipts if r["status"] == "landed"}
    daily = set(config.DAILY_REPORTS[scope.type])
    latest = set(config.LATEST_28_DAY_REPORTS[scope.type])  # input of the completeness check
    assert landed == daily | latest | {"billing"}
