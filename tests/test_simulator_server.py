"""The simulator speaks GitHub's Copilot REST API over real HTTP on 127.0.0.1.

Every test talks to a running server with ``requests``: status codes, headers, signed downloads,
paging and the request log are what a client sees from GitHub (reference §3-§5).
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from copilot_dev.simulator import SimulatorServer
from copilot_warehouse.config import Scope

TOKEN = "sim-token"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2026-03-10",
}
ORG = Scope("organization", "octo-demo")
ENT = Scope("enterprise", "octo-enterprise")
DAY = "2026-11-18"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset",
                "x-ratelimit-resource")  # fmt: skip


def api(sim: SimulatorServer, path: str, headers: dict | None = None, **params) -> requests.Response:
    return requests.get(
        sim.url + path, headers=HEADERS if headers is None else headers, params=params, timeout=10
    )


def report_path(scope: Scope, report: str) -> str:
    return f"{scope.api_prefix}/copilot/metrics/reports/{report}"


def download_all(links: list[str]) -> list[str]:
    lines = []
    for link in links:
        r = requests.get(link, timeout=10)
        assert r.status_code == 200
        assert int(r.headers["Content-Length"]) == len(r.content)
        lines += r.text.splitlines()
    return lines


# --- reports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "report"),
    [
        pytest.param(ORG, "organization-1-day", id="organization-1-day"),
        pytest.param(ORG, "users-1-day", id="org users-1-day"),
        pytest.param(ORG, "user-teams-1-day", id="org user-teams-1-day"),
        pytest.param(ORG, "repos-1-day", id="org repos-1-day"),
        pytest.param(ENT, "enterprise-1-day", id="enterprise-1-day"),
        pytest.param(ENT, "users-1-day", id="enterprise users-1-day"),
    ],
)
def test_a_daily_report_downloads_the_datasets_records(
    simulator: SimulatorServer, scope: Scope, report: str
) -> None:
    r = api(simulator, report_path(scope, report), day=DAY)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"download_links", "report_day"} and body["report_day"] == DAY
    expected = simulator.dataset.report_lines(scope, report, date.fromisoformat(DAY))
    assert len(body["download_links"]) == min(simulator.config.parts, len(expected))
    for link in body["download_links"]:
        assert link.startswith(simulator.url + "/downloads/")
        assert set(parse_qs(urlsplit(link).query)) == {"expires", "signature"}
    assert download_all(body["download_links"]) == expected


def test_a_report_is_split_into_the_configured_number_of_parts(make_simulator) -> None:
    sim = make_simulator(parts=3)
    links = api(sim, report_path(ORG, "users-1-day"), day=DAY).json()["download_links"]
    assert len(links) == 3
    records = [json.loads(line) for line in download_all(links)]
    assert records == sim.dataset.users(ORG, date.fromisoformat(DAY))


@pytest.mark.parametrize(
    ("scope", "report"),
    [
        pytest.param(ORG, "organization-28-day", id="organization-28-day"),
        pytest.param(ENT, "enterprise-28-day", id="enterprise-28-day"),
        pytest.param(ORG, "users-28-day", id="users-28-day"),
    ],
)
def test_28_day_latest_reports(simulator: SimulatorServer, scope: Scope, report: str) -> None:
    r = api(simulator, report_path(scope, report) + "/latest")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"download_links", "report_start_day", "report_end_day"}
    assert body["report_end_day"] == simulator.config.end_day.isoformat()
    lines = download_all(body["download_links"])
    assert lines == simulator.dataset.report_lines(scope, report, None)
    if report.endswith("users-28-day"):
        assert {json.loads(line)["report_start_day"] for line in lines} == {body["report_start_day"]}
    else:
        assert len(json.loads(lines[0])["day_totals"]) == 28


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        pytest.param(
            report_path(ORG, "users-1-day"), {"day": "2026-11-23"}, 204, id="day after the range: 204"
        ),
        pytest.param(
            report_path(ORG, "users-1-day"), {"day": "2026-10-04"}, 204, id="day before the range: 204"
        ),
        pytest.param(report_path(ORG, "users-1-day"), {"day": "2026-13-01"}, 400, id="impossible day: 400"),
        pytest.param(report_path(ORG, "users-1-day"), {"day": "yesterday"}, 400, id="not a date: 400"),
        pytest.param(report_path(ORG, "users-1-day"), {}, 400, id="no day: 400"),
        pytest.param(
            "/orgs/no-such-org/copilot/metrics/reports/users-1-day", {"day": DAY}, 404, id="unknown org: 404"
        ),
        pytest.param(
            "/enterprises/nope/copilot/metrics/reports/enterprise-1-day",
            {"day": DAY},
            404,
            id="unknown enterprise: 404",
        ),  # fmt: skip
        pytest.param(
            report_path(ORG, "enterprise-1-day"), {"day": DAY}, 404, id="enterprise report on an org: 404"
        ),
        pytest.param(
            report_path(ORG, "users-1-day") + "/latest", {}, 404, id="1-day report with /latest: 404"
        ),
        pytest.param(
            report_path(ORG, "users-28-day"), {"day": DAY}, 404, id="28-day report without /latest: 404"
        ),
        pytest.param("/orgs/octo-demo/copilot/nothing", {}, 404, id="unknown route: 404"),
    ],
)
def test_report_status_codes(simulator: SimulatorServer, path: str, params: dict, status: int) -> None:
    r = api(simulator, path, **params)
    assert r.status_code == status
    if status == 204:
        assert r.content == b""
    else:
        assert r.json()["documentation_url"].startswith("https://docs.github.com")
        assert r.json()["message"]


# --- auth, versions, headers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no Authorization: 401"),
        pytest.param({"Authorization": "Bearer wrong"}, 401, id="wrong token: 401"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, 401, id="wrong scheme: 401"),
        pytest.param({"Authorization": f"token {TOKEN}"}, 200, id="'token' scheme: 200"),
        pytest.param({"Authorization": f"Bearer {TOKEN}"}, 200, id="no version header: 200"),
        pytest.param({**HEADERS, "X-GitHub-Api-Version": "2022-11-28"}, 200, id="version 2022-11-28: 200"),
        pytest.param({**HEADERS, "X-GitHub-Api-Version": "2099-01-01"}, 400, id="unsupported version: 400"),
    ],
)
def test_token_and_api_version_are_checked(simulator: SimulatorServer, headers: dict, status: int) -> None:
    r = api(simulator, "/orgs/octo-demo/copilot/billing", headers=headers)
    assert r.status_code == status
    assert TOKEN not in r.text


def test_rate_limit_headers_on_every_api_response(simulator: SimulatorServer) -> None:
    responses = [
        api(simulator, "/orgs/octo-demo/copilot/billing"),
        api(simulator, report_path(ORG, "users-1-day"), day="2030-01-01"),
        api(simulator, "/orgs/ghost/copilot/billing"),
        api(simulator, "/orgs/octo-demo/copilot/billing", headers={}),
    ]
    assert [r.status_code for r in responses] == [200, 204, 404, 401]
    for r in responses:
        for h in RATE_HEADERS:
            assert h in r.headers, h
        assert re.fullmatch(r"[0-9A-F]{16}", r.headers["x-github-request-id"])
        assert int(r.headers["x-ratelimit-reset"]) > time.time()
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in responses]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] > remaining[-1]
    assert responses[0].headers["x-ratelimit-resource"] == "core"


# --- downloads -------------------------------------------------------------------------------


def _link(sim: SimulatorServer) -> str:
    return api(sim, report_path(ORG, "users-1-day"), day=DAY).json()["download_links"][0]


def test_download_with_an_authorization_header_is_refused(simulator: SimulatorServer) -> None:
    link = _link(simulator)
    r = requests.get(link, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert r.status_code == 403
    assert "Authorization" in r.json()["message"]
    assert requests.get(link, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda q: q.replace("signature=", "signature=00"), id="bad signature"),
        pytest.param(
            lambda q: re.sub(r"expires=(\d+)", lambda m: f"expires={int(m[1]) + 999}", q),
            id="expiry moved later",
        ),  # fmt: skip
        pytest.param(lambda q: re.sub(r"&signature=\w+", "", q), id="no signature"),
        pytest.param(lambda q: q.replace("expires=", "expires=x"), id="malformed expiry"),
    ],
)
def test_a_tampered_download_link_is_refused(simulator: SimulatorServer, tamper) -> None:
    link = _link(simulator)
    base, query = link.split("?", 1)
    assert requests.get(f"{base}?{tamper(query)}", timeout=10).status_code == 403


def test_download_link_expires_after_its_ttl(make_simulator) -> None:
    sim = make_simulator(link_ttl_seconds=1)
    link = _link(sim)
    assert requests.get(link, timeout=10).status_code == 200
    time.sleep(2.1)
    r = requests.get(link, timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["message"]
    assert requests.get(_link(sim), timeout=10).status_code == 200  # a fresh link works


def test_links_signed_by_another_server_are_refused(make_simulator) -> None:
    one, two = make_simulator(), make_simulator()
    link = _link(one).replace(one.url, two.url)
    assert requests.get(link, timeout=10).status_code == 403


# --- seats and billing -----------------------------------------------------------------------


def follow_links(sim: SimulatorServer, path: str, **params) -> tuple[list[requests.Response], list[dict]]:
    pages, seats = [], []
    r = api(sim, path, **params)
    while True:
        assert r.status_code == 200
        pages.append(r)
        seats += r.json()["seats"]
        nxt = r.links.get("next")
        if not nxt:
            return pages, seats
        r = requests.get(nxt["url"], headers=HEADERS, timeout=10)


@pytest.mark.parametrize(
    ("per_page", "pages"),
    [
        pytest.param(None, 2, id="default 50 per page"),
        pytest.param(15, 6, id="15 per page"),
        pytest.param(100, 1, id="100 per page: one page, no Link"),
        pytest.param(500, 1, id="per_page above 100 is capped"),
    ],
)
def test_enterprise_seats_page_through_link_headers(simulator: SimulatorServer, per_page, pages: int) -> None:
    params = {} if per_page is None else {"per_page": per_page}
    responses, seats = follow_links(simulator, "/enterprises/octo-enterprise/copilot/billing/seats", **params)
    expected = simulator.dataset.seats(ENT)
    assert len(expected) == 80
    assert len(responses) == pages
    assert seats == expected
    assert {r.json()["total_seats"] for r in responses} == {len({s["assignee"]["id"] for s in expected})}
    if pages > 1:
        assert responses[0].links["last"]["url"].count(f"page={pages}") == 1
        assert "prev" in responses[-1].links and "next" not in responses[-1].links
    else:
        assert "Link" not in responses[0].headers


def test_billing_matches_the_seats(simulator: SimulatorServer) -> None:
    r = api(simulator, "/orgs/octo-demo/copilot/billing")
    assert r.status_code == 200
    body = r.json()
    assert body == simulator.dataset.billing(ORG)
    assert (
        body["seat_breakdown"]["total"]
        == api(simulator, "/orgs/octo-demo/copilot/billing/seats").json()["total_seats"]
    )


# --- legacy API ------------------------------------------------------------------------------


def test_legacy_metrics_api_is_retired_by_default(simulator: SimulatorServer) -> None:
    r = api(simulator, "/orgs/octo-demo/copilot/metrics", since="2026-03-01T00:00:00Z")
    assert r.status_code == 404
    assert r.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


@pytest.mark.parametrize(
    ("params", "status", "days"),
    [
        pytest.param({}, 200, 31, id="no since/until: the whole legacy range"),
        pytest.param(
            {"since": "2026-03-10T00:00:00Z", "until": "2026-03-20T00:00:00Z"}, 200, 11, id="inside"
        ),
        pytest.param(
            {"since": "2026-02-20T00:00:00Z", "until": "2026-03-05T00:00:00Z"},
            404,
            0,
            id="starts before the legacy range: 404",
        ),  # fmt: skip
        pytest.param(
            {"since": "2026-03-25T00:00:00Z", "until": "2026-04-10T00:00:00Z"},
            404,
            0,
            id="ends after the closure: 404",
        ),  # fmt: skip
        pytest.param(
            {"since": "2026-03-20T00:00:00Z", "until": "2026-03-10T00:00:00Z"},
            422,
            0,
            id="until before since: 422",
        ),  # fmt: skip
    ],
)
def test_legacy_metrics_inside_the_configured_range(
    make_simulator, params: dict, status: int, days: int
) -> None:
    sim = make_simulator(legacy_start=date(2026, 3, 2), legacy_end=date(2026, 4, 1))
    r = api(sim, "/orgs/octo-demo/copilot/metrics", **params)
    assert r.status_code == status
    if status == 200:
        assert [d["date"] for d in r.json()] == [
            d["date"]
            for d in sim.dataset.legacy_days(
                ORG,
                date.fromisoformat(params.get("since", "2026-03-02T")[:10]),
                date.fromisoformat(params.get("until", "2026-04-01T")[:10]),
            )
        ]
        assert len(r.json()) == days


def test_legacy_metrics_pages_through_link_headers(make_simulator) -> None:
    sim = make_simulator(legacy_start=date(2026, 3, 2), legacy_end=date(2026, 4, 1))
    r = api(sim, "/enterprises/octo-enterprise/copilot/metrics", per_page=10)
    got = list(r.json())
    pages = 1
    while "next" in r.links:
        r = requests.get(r.links["next"]["url"], headers=HEADERS, timeout=10)
        assert r.status_code == 200
        got += r.json()
        pages += 1
    assert pages == 4
    assert got == sim.dataset.legacy_days(ENT, date(2026, 3, 2), date(2026, 4, 1))


# --- call counting and logs ------------------------------------------------------------------


def test_requests_are_recorded_without_query_strings_and_logs_hold_no_secrets(
    simulator: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="copilot_dev.simulator")
    links = api(simulator, report_path(ORG, "users-1-day"), day=DAY).json()["download_links"]
    download_all(links)
    api(simulator, "/orgs/octo-demo/copilot/billing/seats", per_page=10, page=2)
    api(simulator, "/orgs/octo-demo/copilot/billing", headers={"Authorization": "Bearer leaked-wrong-token"})
    assert simulator.requests[0] == ("GET", "/orgs/octo-demo/copilot/metrics/reports/users-1-day", 200)
    assert all("?" not in path for _, path, _ in simulator.requests)
    assert simulator.count(r"^/downloads/") == len(links)
    assert simulator.count(r"/copilot/billing$", status=401) == 1
    signatures = [parse_qs(urlsplit(link).query)["signature"][0] for link in links]
    text = caplog.text
    assert "/downloads/" in text  # downloads are logged ...
    for secret in (*signatures, TOKEN, "leaked-wrong-token", "day=", "signature=", "per_page="):
        assert secret not in text  # ... without their query strings or any token


def test_two_servers_can_run_side_by_side(make_simulator) -> None:
    one, two = make_simulator(seed=1), make_simulator(seed=2)
    assert one.url != two.url
    a = api(one, "/orgs/octo-demo/copilot/billing/seats", per_page=100).json()
    b = api(two, "/orgs/octo-demo/copilot/billing/seats", per_page=100).json()
    assert a != b
