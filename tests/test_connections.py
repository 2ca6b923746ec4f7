"""A bounded number of connections to GitHub (``COPILOT_MAX_CONNECTIONS``) and per-request retry accounting.

GitHub asks integrators for few concurrent requests, so one client never has more than
``max_connections`` requests in flight (API calls and signed-URL downloads together), counted here
in a local HTTP server; every retry is counted per request, exactly, from many threads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from copilot_warehouse import config
from copilot_warehouse.config import ConfigError, Scope
from copilot_warehouse.extract.client import (
    CopilotClient,
    RetriesExhaustedError,
    describe_requests,
    request_accounting,
)

TOKEN = "ghs_PoolTestToken000000000000000001"
ORG = Scope("organization", "octo-demo")
DAY = date(2026, 11, 20)


# --- the setting ------------------------------------------------------------------------------


def test_the_default_is_small_and_the_env_var_sets_it(monkeypatch):
    monkeypatch.delenv(config.ENV_MAX_CONNECTIONS, raising=False)
    assert config.max_connections() == config.DEFAULT_MAX_CONNECTIONS == 4
    monkeypatch.setenv(config.ENV_MAX_CONNECTIONS, " 2 ")
    assert config.max_connections() == 2
    assert CopilotClient("http://127.0.0.1:1", TOKEN).max_connections == 2
    assert CopilotClient("http://127.0.0.1:1", TOKEN, max_connections=1).max_connections == 1
    monkeypatch.setenv(config.ENV_MAX_CONNECTIONS, "")
    assert config.max_connections() == 4


@pytest.mark.parametrize("bad", ["0", "17", "-1", "abc", "1.5", "4 connections"])
def test_a_bad_setting_is_one_clear_config_error(monkeypatch, bad):
    monkeypatch.setenv(config.ENV_MAX_CONNECTIONS, bad)
    with pytest.raises(ConfigError) as info:
        CopilotClient("http://127.0.0.1:1", TOKEN)
    assert str(info.value).startswith("COPILOT_MAX_CONNECTIONS must be a whole number")
    assert "from 1 to 16" in str(info.value) and repr(bad.strip()) in str(info.value)


def test_the_connection_extra_sets_it(monkeypatch):
    hooks = pytest.importorskip("copilot_airflow.hooks")
    monkeypatch.setenv(config.ENV_MAX_CONNECTIONS, "3")
    conn = {"conn_type": "http", "host": "api.github.com", "password": TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_COPILOT_POOL_CONN", json.dumps(conn))
    assert hooks.GitHubCopilotHook("copilot_pool_conn").get_conn().max_connections == 3  # the env var
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPILOT_POOL_CONN", json.dumps({**conn, "extra": {"max_connections": 2}})
    )
    assert hooks.GitHubCopilotHook("copilot_pool_conn").get_conn().max_connections == 2  # extra wins
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPILOT_POOL_CONN", json.dumps({**conn, "extra": {"max_connections": 40}})
    )
    with pytest.raises(ConfigError, match="Connection 'copilot_pool_conn' extra 'max_connections' must be"):
        hooks.GitHubCopilotHook("copilot_pool_conn").get_conn()


@pytest.mark.parametrize("n", [1, 3])
def test_both_sessions_pool_n_connections_per_host_and_block(n):
    client = CopilotClient("https://api.github.com", TOKEN, max_connections=n)
    for session in (client.session, client.download_session):
        for url in ("https://api.github.com/x", "http://127.0.0.1/y"):
            adapter = session.get_adapter(url)
            assert (adapter._pool_maxsize, adapter._pool_block) == (n, True)
            pool = adapter.poolmanager.connection_from_url(url)
            assert (pool.pool.maxsize, pool.block) == (n, True)


# --- a local server that counts requests in flight ---------------------------------------------


class CountingServer:
    """HTTP on 127.0.0.1 that holds each request ``delay`` seconds and records the most in flight.

    Routes: ``/orgs/octo-demo/copilot/metrics/reports/users-1-day`` answers download links to
    ``/dl/<n>``; ``/dl/<n>`` answers a body. ``fail`` maps a path prefix to a list of statuses
    answered first, one per request (e.g. ``{"/dl/3": [503, 429]}``), then the normal answer.
    """

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self.total = 0
        self.fail: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                with server._lock:
                    server.in_flight += 1
                    server.total += 1
                    server.peak = max(server.peak, server.in_flight)
                    path = self.path.split("?")[0]
                    plan = next((v for k, v in server.fail.items() if path.startswith(k) and v), None)
                    status = plan.pop(0) if plan else 200
                try:
                    time.sleep(server.delay)
                finally:
                    # counted out before answering: the client's request (which holds its slot until
                    # the answer is read) surely spans this interval, so no false overlap is seen
                    with server._lock:
                        server.in_flight -= 1
                if status != 200:
                    body = json.dumps({"message": "try again"}).encode()
                    headers = {"Retry-After": "0"} if status == 429 else {}
                elif path.startswith("/dl/"):
                    body, headers = b'{"user": 1}\n' * 100, {}
                else:
                    base = f"http://{self.headers['Host']}"
                    body = json.dumps(
                        {"download_links": [f"{base}/dl/1?sig=x"], "report_day": DAY.isoformat()}
                    ).encode()
                    headers = {}
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[CountingServer]:
    with CountingServer() as s:
        yield s


def _work(client: CopilotClient, tmp_path, i: int) -> int:
    """One report call and one download, as a fetch unit does."""
    links = client.report_links(ORG, "users-1-day", DAY)
    return client.download(links.links[0], tmp_path / f"part-{i}.ndjson", scope=ORG, day=DAY)


@pytest.mark.parametrize("n", [1, 3])
def test_never_more_than_n_requests_in_flight(server, tmp_path, n):
    client = CopilotClient(server.url, TOKEN, max_connections=n, sleep=lambda s: None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        sizes = list(pool.map(lambda i: _work(client, tmp_path, i), range(12)))
    assert sizes == [1200] * 12 and server.total == 24
    assert server.peak == n  # API calls and downloads together; 8 threads reach the bound, never more
    assert client.stats["requests"] == 24 and client.stats["retries"] == 0


def test_retries_are_counted_per_request_under_concurrency(server, tmp_path):
    server.fail = {"/dl/": [503, 429, 503, 503]}  # the first four download attempts fail
    server.fail["/orgs/"] = [502]
    sleeps: list[float] = []
    client = CopilotClient(server.url, TOKEN, max_connections=3, sleep=sleeps.append, backoff=0.01)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: _work(client, tmp_path, i), range(10)))
    accounting = request_accounting(client.stats.snapshot())
    assert accounting["requests"] == 20
    assert accounting["retries"] == 5 == len(sleeps)
    assert accounting["retries_by_cause"] == {"server_error": 4, "rate_limit": 1}
    # Which request meets which planned failure depends on thread timing: a download retried at
    # once may meet the next planned failure too. Whatever the order, 5 retries spread over 2..5
    # requests (the API call and at least one download), and the most retried one had 1..4.
    retried, most = accounting["retried_requests"], accounting["max_retries"]
    assert 2 <= retried <= 5 and 1 <= most <= 4 and (retried - 1) + most <= 5
    assert accounting["waited_seconds"] == pytest.approx(sum(sleeps), abs=0.01)
    assert server.peak <= 3
    line = describe_requests(accounting)
    assert line.startswith(f"20 requests, {accounting['retried_requests']} retried (5 retries, ")
    assert "4 5xx" in line and "1 429/403 rate limit" in line
    assert "sig=" not in line and TOKEN not in line


def test_a_request_given_up_counts_once_with_all_its_retries(server):
    server.fail = {"/orgs/": [500, 500, 500]}
    client = CopilotClient(server.url, TOKEN, max_attempts=3, sleep=lambda s: None)
    with pytest.raises(RetriesExhaustedError):
        client.report_links(ORG, "users-1-day", DAY)
    stats = client.stats.snapshot()
    counts = (stats["requests"], stats["retried_requests"], stats["retries"], stats["max_retries"])
    assert counts == (1, 1, 2, 2)


def test_thread_retries_belong_to_the_thread_that_made_them(server, tmp_path):
    server.fail = {"/orgs/": [503]}
    client = CopilotClient(server.url, TOKEN, sleep=lambda s: None)
    seen: dict[str, int] = {}

    def run(name: str) -> None:
        if name == "first":
            client.report_links(ORG, "users-1-day", DAY)  # takes the one failure
        else:
            time.sleep(0.3)
            client.report_links(ORG, "users-1-day", DAY)
        seen[name] = client.stats.thread_retries()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"first": 1, "second": 0}
    assert client.stats["retries"] == 1


# --- the fetch path: up to N (scope, report, day) units at a time --------------------------------

SIM_DAYS = [date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8)]
OTHER = Scope("organization", "acme-labs")


def _count_units(monkeypatch) -> tuple[list[tuple[str, str, date]], dict[str, int]]:
    """Wrap ``ingest.fetch_report``: the units asked for, in order, and the most running at once."""
    from copilot_warehouse.pipeline import ingest

    real, lock = ingest.fetch_report, threading.Lock()
    calls: list[tuple[str, str, date]] = []
    state = {"now": 0, "peak": 0}

    def counted(client, scope, report, day, landing_root):
        with lock:
            calls.append((scope.name, report, day))
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        try:
            return real(client, scope, report, day, landing_root)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(ingest, "fetch_report", counted)
    return calls, state


@pytest.mark.integration
@pytest.mark.parametrize("n", [1, 3])
def test_a_scope_fetches_up_to_n_units_at_once_newest_day_first(simulator, tmp_path, monkeypatch, n):
    from copilot_warehouse.pipeline import ingest

    calls, state = _count_units(monkeypatch)
    client = CopilotClient(simulator.url, "sim-token", max_connections=n, sleep=lambda s: None)
    receipts = ingest.fetch_scope_days(client, ORG, SIM_DAYS, tmp_path / "landing")
    reports = config.DAILY_REPORTS[config.ORGANIZATION]
    assert [(r["day"], r["report"], r["status"]) for r in receipts] == [
        (d.isoformat(), report, "landed") for d in SIM_DAYS for report in reports
    ]
    assert all(r["retries"] == 0 for r in receipts)
    if n == 1:  # strictly one at a time, report by report: its newest day, then the others
        assert state["peak"] == 1
        assert calls == [("octo-demo", r, d) for r in reports for d in [SIM_DAYS[-1], *SIM_DAYS[:-1]]]
    else:
        assert 2 <= state["peak"] <= n
        for report in reports:  # each report's newest day is asked for before its other days
            days = [d for _s, r, d in calls if r == report]
            assert days[0] == SIM_DAYS[-1] and sorted(days) == SIM_DAYS


@pytest.mark.integration
def test_several_scopes_share_the_bound_and_a_report_not_offered_is_asked_once(
    simulator, tmp_path, monkeypatch
):
    from copilot_warehouse.pipeline import ingest

    simulator.faults.add("status", match=rf"{ORG.api_prefix}/.*/repos-1-day/", times=None, status=404)
    simulator.faults.add("status", match=r"users-1-day/2026-10-07$", times=1, status=503)
    calls, state = _count_units(monkeypatch)
    client = CopilotClient(simulator.url, "sim-token", max_connections=2, sleep=lambda s: None)
    by_scope, errors = ingest.fetch_scopes_days(client, {ORG: SIM_DAYS, OTHER: SIM_DAYS}, tmp_path / "l")
    assert errors == [] and state["peak"] == 2
    assert simulator.count(rf"^{ORG.api_prefix}/copilot/metrics/reports/repos-1-day$") == 1
    [repos] = [r for r in by_scope[ORG] if r["report"] == "repos-1-day"]
    assert (repos["status"], repos["report_unavailable"], repos["day"]) == ("unavailable", True, "2026-10-08")
    assert len(by_scope[OTHER]) == 4 * len(SIM_DAYS)
    assert all(r["status"] == "landed" for r in by_scope[OTHER])
    # the one retry belongs to the receipt whose request was retried, whatever thread ran it
    retried = [r for s in (ORG, OTHER) for r in by_scope[s] if r["retries"]]
    assert len(retried) == 1 and retried[0]["report"] == "users-1-day" and retried[0]["day"] == "2026-10-07"
    assert client.stats["retries_by_cause"] == {"server_error": 1}


@pytest.mark.integration
def test_run_range_summary_has_the_request_accounting(simulator, tmp_path):
    from copilot_warehouse.pipeline import ingest

    simulator.faults.add("rate_limit_429", match=r"users-1-day/2026-10-07$", retry_after=0)
    client = CopilotClient(simulator.url, "sim-token", max_connections=3, sleep=lambda s: None)
    summary = ingest.run_range(client, [ORG], SIM_DAYS[:2], tmp_path / "landing", tmp_path / "w.duckdb")
    assert summary["max_connections"] == 3
    requests = summary["requests"]
    # 8 report calls + 8 downloads (the simulator splits each report in parts: at least one each)
    assert requests["requests"] == client.stats["requests"] >= 16
    assert (requests["retried_requests"], requests["retries"], requests["retries_by_cause"]) == (
        1,
        1,
        {"rate_limit": 1},
    )
