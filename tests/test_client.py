"""CopilotClient against HTTP faked at the ``requests`` level (the ``responses`` library).

What GitHub answers (reference/github-copilot-api.md) and what the client must do with it:
return links, retry transient failures with the right waits, explain client errors in words,
download without the token, follow Link headers, and never show a token or a signed URL.
"""

from __future__ import annotations

import email.utils
import logging
import time
from datetime import date

import pytest
import requests
import responses
from copilot_warehouse import redact
from copilot_warehouse.config import ConfigError, Scope
from copilot_warehouse.extract.client import (
    Availability,
    CopilotApiError,
    CopilotClient,
    ForbiddenError,
    LegacyApiRetiredError,
    LinkExpiredError,
    MetricsDisabledError,
    NoReport,
    NotFoundError,
    RetriesExhaustedError,
    UnauthorizedError,
    build_base_url,
    ghe_base_url,
)
from responses import matchers

API = "https://api.github.com"
TOKEN = "ghs_UnitTestInstallationToken000000001"
ORG = Scope("organization", "octo-demo")
ENT = Scope("enterprise", "octo-enterprise")
DAY = date(2026, 11, 20)
USERS_URL = f"{API}/orgs/octo-demo/copilot/metrics/reports/users-1-day"
SIGNED = "https://copilot-reports.github.com/r/users/part-1.ndjson?expires=1767225600&signature=U2lnbmVk"
SIGNED_BASE = SIGNED.split("?")[0]
LINKS_BODY = {"download_links": [SIGNED], "report_day": "2026-11-20"}


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for (it never really sleeps in these tests)."""
    return []


@pytest.fixture
def client(sleeps) -> CopilotClient:
    return CopilotClient(API, TOKEN, sleep=sleeps.append)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _secret_free(text: str) -> None:
    assert TOKEN not in text
    assert "U2lnbmVk" not in text and "signature=" not in text


# --- report links -----------------------------------------------------------------------------


def test_report_links_200_returns_links_and_day(client, rsps):
    rsps.get(USERS_URL, json=LINKS_BODY, match=[matchers.query_param_matcher({"day": "2026-11-20"})])
    links = client.report_links(ORG, "users-1-day", DAY)
    assert links.links == [SIGNED]
    assert links.day == DAY and links.report == "users-1-day" and links.scope == ORG
    _secret_free(repr(links))
    _secret_free(str(links))


def test_report_links_204_means_no_report_yet(client, rsps):
    rsps.get(USERS_URL, status=204)
    assert client.report_links(ORG, "users-1-day", "2026-11-20") is None
    assert client.stats["by_status"] == {"204": 1}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty body"),
        pytest.param(b'""', id="empty string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"  \n", id="whitespace"),
        pytest.param(b'{"download_links": [], "report_day": "2026-11-20"}', id="no links"),
    ],
)
def test_an_empty_200_is_no_report_yet_like_204(client, rsps, body):
    """GitHub sometimes answers 200 with nothing in it (field case 01): no report, never a zero."""
    rsps.get(USERS_URL, body=body, status=200, content_type="application/json")
    answer = client.report_answer(ORG, "users-1-day", DAY)
    assert isinstance(answer, NoReport) and answer.status == 200
    assert "no report for this day yet" in answer.detail and "read as 204" in answer.detail
    assert client.report_links(ORG, "users-1-day", DAY) is None


def test_a_204_answer_says_so(client, rsps):
    rsps.get(USERS_URL, status=204)
    assert client.report_answer(ORG, "users-1-day", DAY) == NoReport(
        204, "no report for this day yet (HTTP 204)"
    )


def test_28_day_report_uses_latest_and_parses_its_window(client, rsps):
    rsps.get(
        f"{API}/enterprises/octo-enterprise/copilot/metrics/reports/enterprise-28-day/latest",
        json={
            "download_links": [SIGNED, SIGNED],
            "report_start_day": "2026-10-24",
            "report_end_day": "2026-11-20",
        },
    )
    links = client.report_links(ENT, "enterprise-28-day")
    assert links.day is None
    assert (links.report_start_day, links.report_end_day) == (date(2026, 10, 24), DAY)
    assert len(links.links) == 2


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        pytest.param(
            401, {"message": "Bad credentials"}, UnauthorizedError, "token was rejected", id="401 bad token"
        ),
        pytest.param(
            403,
            {"message": "Resource not accessible by integration"},
            ForbiddenError,
            "read:org",
            id="403 plain: scope/role/policy, names the scopes",
        ),
        pytest.param(
            404, {"message": "Not Found"}, NotFoundError, "no GitHub Copilot subscription", id="404"
        ),
        pytest.param(
            422,
            {"message": "Copilot Usage Metrics API setting is disabled"},
            MetricsDisabledError,
            "setting is disabled",
            id="422 metrics API disabled",
        ),
        pytest.param(400, {"message": "Invalid day"}, CopilotApiError, "Invalid day", id="400"),
    ],
)
def test_client_errors_are_explained_and_never_retried(client, rsps, sleeps, status, body, error, words):
    rsps.get(USERS_URL, status=status, json=body, headers={"x-github-request-id": "ABCD:1234"})
    with pytest.raises(error) as info:
        client.report_links(ORG, "users-1-day", DAY)
    text = str(info.value)
    assert text.startswith(f"organization:octo-demo users-1-day 2026-11-20: HTTP {status}: ")
    assert words in text
    assert "ABCD:1234" in text
    assert info.value.status == status and info.value.retryable is False
    assert len(rsps.calls) == 1 and sleeps == []
    _secret_free(text)


def test_unknown_report_and_missing_day_are_config_errors(client):
    with pytest.raises(ConfigError, match="unknown report 'users-7-day'"):
        client.report_links(ORG, "users-7-day", DAY)
    with pytest.raises(ConfigError, match="needs day=YYYY-MM-DD"):
        client.report_links(ORG, "users-1-day", None)


def test_response_without_download_links_is_a_clear_error(client, rsps):
    rsps.get(USERS_URL, json={"report_day": "2026-11-20"})
    with pytest.raises(
        CopilotApiError, match="users-1-day 2026-11-20: HTTP 200: the response has no download_links"
    ):
        client.report_links(ORG, "users-1-day", DAY)


# --- headers and base URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "expected"),
    [
        pytest.param(None, "2026-03-10", id="default version"),
        pytest.param("2022-11-28", "2022-11-28", id="pinned"),
    ],
)
def test_api_headers(sleeps, rsps, api_version, expected):
    kwargs = {"api_version": api_version} if api_version else {}
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, **kwargs)
    rsps.get(USERS_URL, status=204)
    client.report_links(ORG, "users-1-day", DAY)
    headers = rsps.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == expected
    assert headers["User-Agent"].startswith("copilot-usage-warehouse/")


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        pytest.param("", None, None, "https://api.github.com", id="empty -> github.com"),
        pytest.param("https://api.github.com/", None, None, "https://api.github.com", id="trailing slash"),
        pytest.param("github.com", None, None, "https://api.github.com", id="web host -> api host"),
        pytest.param(
            "https://api.octo.ghe.com", None, None, "https://api.octo.ghe.com", id="GHE.com api host"
        ),
        pytest.param("octo.ghe.com", None, None, "https://api.octo.ghe.com", id="GHE.com web host -> api"),
        pytest.param(
            "127.0.0.1:8000", None, None, "http://127.0.0.1:8000", id="loopback without scheme -> http"
        ),
        pytest.param("127.0.0.1", None, 8123, "http://127.0.0.1:8123", id="loopback with port field"),
        pytest.param("api.github.com", "https", None, "https://api.github.com", id="schema field honoured"),
        pytest.param("proxy.internal", "http", None, "http://proxy.internal", id="schema http honoured"),
        pytest.param(
            "https://ghes.example.com/api/v3", None, None, "https://ghes.example.com/api/v3", id="path kept"
        ),
    ],
)
def test_build_base_url(host, schema, port, expected):
    assert build_base_url(host, schema, port) == expected


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("ftp://api.github.com", id="scheme"),
        pytest.param("https://api.github.com/?token=x", id="query"),
    ],
)
def test_build_base_url_rejects(bad):
    with pytest.raises(ConfigError):
        build_base_url(bad)


def test_ghe_com_client_calls_the_data_residency_host(sleeps, rsps):
    client = CopilotClient(ghe_base_url("octo"), TOKEN, sleep=sleeps.append)
    rsps.get("https://api.octo.ghe.com/orgs/octo-demo/copilot/metrics/reports/users-1-day", status=204)
    assert client.report_links(ORG, "users-1-day", DAY) is None
    assert rsps.calls[0].request.url.startswith("https://api.octo.ghe.com/orgs/octo-demo/")


def test_missing_token_is_a_config_error():
    with pytest.raises(ConfigError, match="no GitHub token"):
        CopilotClient(API, "")


# --- retries ----------------------------------------------------------------------------------

OK = {"json": LINKS_BODY}


def _reset_in(seconds: int) -> str:
    return str(int(time.time()) + seconds)


@pytest.mark.parametrize(
    ("first", "expected_waits"),
    [
        pytest.param([{"status": 500}], [(0.5, 1.0)], id="500 then 200"),
        pytest.param([{"status": 502}, {"status": 503}], [(0.5, 1.0), (1.0, 2.0)], id="502, 503 then 200"),
        pytest.param(
            [{"status": 429, "headers": {"Retry-After": "7"}}], [(7, 7)], id="429 Retry-After then 200"
        ),
        pytest.param(
            [{"status": 403, "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "+30"}}],
            [(29, 32)],
            id="403 remaining 0 then 200 waits for reset",
        ),
        pytest.param(
            [
                {
                    "status": 429,
                    "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "+3600"},
                }
            ],
            [(120, 120)],
            id="reset an hour away is capped by max_wait",
        ),
        pytest.param(
            [{"status": 403, "json": {"message": "You have exceeded a secondary rate limit."}}],
            [(60, 60)],
            id="403 secondary rate limit then 200 waits a minute",
        ),
        pytest.param([{"status": 429}], [(0.5, 1.0)], id="429 without hints backs off exponentially"),
        pytest.param(
            [{"status": 503, "headers": {"Retry-After": "+20s as HTTP-date"}}],
            [(18, 21)],
            id="503 with an HTTP-date Retry-After",
        ),
        pytest.param(
            [{"status": 429, "headers": {"Retry-After": "600"}}],
            [(120, 120)],
            id="Retry-After above max_wait is capped",
        ),
        pytest.param(
            [{"body": requests.exceptions.ReadTimeout("read timed out")}], [(0.5, 1.0)], id="timeout then 200"
        ),
        pytest.param(
            [{"body": requests.exceptions.ConnectionError("Connection reset by peer")}],
            [(0.5, 1.0)],
            id="connection reset then 200",
        ),
    ],
)
def test_transient_failures_are_retried_then_succeed(client, rsps, sleeps, first, expected_waits):
    for spec in first:
        headers = dict(spec.get("headers", {}))
        if headers.get("x-ratelimit-reset", "").startswith("+"):  # "+N": N seconds from now
            headers["x-ratelimit-reset"] = _reset_in(int(headers["x-ratelimit-reset"][1:]))
        if headers.get("Retry-After", "").endswith("as HTTP-date"):
            seconds = int(headers["Retry-After"][1:].split("s", 1)[0])
            headers["Retry-After"] = email.utils.formatdate(time.time() + seconds, usegmt=True)
        rsps.get(USERS_URL, **{**spec, "headers": headers})
    rsps.get(USERS_URL, **OK)
    assert client.report_links(ORG, "users-1-day", DAY).links == [SIGNED]
    assert len(rsps.calls) == len(first) + 1
    assert len(sleeps) == len(expected_waits)
    for waited, (low, high) in zip(sleeps, expected_waits, strict=True):
        assert low <= waited <= high
    assert client.stats["retries"] == len(first)
    assert client.stats["calls"] == len(first) + 1


def test_give_up_after_max_attempts_names_scope_report_day_and_status(sleeps, rsps, caplog):
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, max_attempts=3)
    rsps.get(USERS_URL, status=503, json={"message": "unavailable"}, headers={"x-github-request-id": "RID:9"})
    caplog.set_level(logging.WARNING, logger="copilot_warehouse")
    with pytest.raises(RetriesExhaustedError) as info:
        client.report_links(ORG, "users-1-day", DAY)
    text = str(info.value)
    assert text.startswith(
        "organization:octo-demo users-1-day 2026-11-20: HTTP 503: gave up after 3 attempts"
    )
    assert "RID:9" in text
    assert len(rsps.calls) == 3 and len(sleeps) == 2
    retry_logs = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retry_logs) == 2
    assert "attempt 1/3 failed (HTTP 503" in retry_logs[0]
    assert client.stats.snapshot() == {
        "calls": 3,
        "retries": 2,
        "downloads": 0,
        "bytes": 0,
        "by_status": {"503": 3},
        "requests": 1,  # one request, given up after its 2 retries
        "retried_requests": 1,
        "max_retries": 2,
        "waited_seconds": round(sum(sleeps), 3),
        "retries_by_cause": {"server_error": 2},
    }


def test_timeouts_exhausted_say_no_response(sleeps, rsps):
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, max_attempts=2)
    rsps.get(USERS_URL, body=requests.exceptions.ConnectTimeout(f"timed out connecting for {SIGNED}"))
    with pytest.raises(RetriesExhaustedError, match="no response: gave up after 2 attempts") as info:
        client.report_links(ORG, "users-1-day", DAY)
    _secret_free(str(info.value))
    assert info.value.status is None


def test_plain_403_is_not_mistaken_for_rate_limiting(client, rsps, sleeps):
    rsps.get(
        USERS_URL,
        status=403,
        json={"message": "Must have admin rights to Repository."},
        headers={"x-ratelimit-remaining": "4999"},
    )
    with pytest.raises(ForbiddenError):
        client.report_links(ORG, "users-1-day", DAY)
    assert sleeps == [] and len(rsps.calls) == 1


# --- downloads --------------------------------------------------------------------------------

NDJSON = b'{"user_id": 1, "day": "2026-11-20"}\n{"user_id": 2, "day": "2026-11-20"}\n'


def test_download_streams_to_file_without_authorization(client, rsps, tmp_path):
    rsps.get(
        SIGNED_BASE,
        body=NDJSON,
        match=[matchers.query_param_matcher({"expires": "1767225600", "signature": "U2lnbmVk"})],
    )
    dest = tmp_path / "landing" / "part-0001.ndjson"
    assert client.download(SIGNED, dest, scope=ORG, report="users-1-day", day=DAY) == len(NDJSON)
    assert dest.read_bytes() == NDJSON
    sent = rsps.calls[0].request.headers
    assert "Authorization" not in sent
    assert TOKEN not in str(dict(sent))
    assert list(dest.parent.iterdir()) == [dest], "no temporary file left behind"
    assert client.stats["downloads"] == 1 and client.stats["bytes"] == len(NDJSON)


@pytest.mark.parametrize("status", [pytest.param(403, id="403 expired"), pytest.param(410, id="410 gone")])
def test_download_link_expiry_is_not_retried(client, rsps, sleeps, tmp_path, status):
    rsps.get(SIGNED_BASE, status=status, body=b"<Error>Request has expired</Error>")
    dest = tmp_path / "part-0001.ndjson"
    with pytest.raises(LinkExpiredError, match="request fresh report links") as info:
        client.download(SIGNED, dest, scope=ORG, report="users-1-day", day=DAY)
    assert len(rsps.calls) == 1 and sleeps == []
    assert not dest.exists()
    _secret_free(str(info.value))
    assert "copilot-reports.github.com" in str(info.value)


def test_download_host_rate_limit_waits_and_retries_instead_of_calling_the_link_expired(
    client, rsps, sleeps, tmp_path
):
    rsps.get(SIGNED_BASE, status=403, json={"message": "You have exceeded a secondary rate limit."})
    rsps.get(SIGNED_BASE, body=NDJSON)
    dest = tmp_path / "part-0001.ndjson"
    assert client.download(SIGNED, dest, scope=ORG, report="users-1-day", day=DAY) == len(NDJSON)
    assert dest.read_bytes() == NDJSON
    assert len(rsps.calls) == 2 and len(sleeps) == 1 and client.stats["retries"] == 1


def test_download_short_body_is_retried(client, rsps, sleeps, tmp_path):
    rsps.get(SIGNED_BASE, body=NDJSON[:10], headers={"Content-Length": str(len(NDJSON))})
    rsps.get(SIGNED_BASE, body=NDJSON)
    dest = tmp_path / "part-0001.ndjson"
    assert client.download(SIGNED, dest, scope=ORG, report="users-1-day", day=DAY) == len(NDJSON)
    assert dest.read_bytes() == NDJSON
    assert len(rsps.calls) == 2 and len(sleeps) == 1


def test_download_short_body_every_time_gives_up_and_leaves_nothing(sleeps, rsps, tmp_path):
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, max_attempts=2)
    rsps.get(SIGNED_BASE, body=NDJSON[:10], headers={"Content-Length": str(len(NDJSON))})
    dest = tmp_path / "part-0001.ndjson"
    with pytest.raises(RetriesExhaustedError, match="broke off after 10 of 72 bytes") as info:
        client.download(SIGNED, dest, scope=ORG, report="users-1-day", day=DAY)
    assert "organization:octo-demo users-1-day 2026-11-20" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    _secret_free(str(info.value))


def test_download_500_then_200(client, rsps, sleeps, tmp_path):
    rsps.get(SIGNED_BASE, status=500)
    rsps.get(SIGNED_BASE, body=NDJSON)
    assert client.download(SIGNED, tmp_path / "p.ndjson") == len(NDJSON)
    assert len(sleeps) == 1


def test_download_keeps_an_existing_file_until_the_new_one_is_whole(sleeps, rsps, tmp_path):
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, max_attempts=1)
    dest = tmp_path / "p.ndjson"
    dest.write_bytes(b"old\n")
    rsps.get(SIGNED_BASE, body=NDJSON[:5], headers={"Content-Length": str(len(NDJSON))})
    with pytest.raises(RetriesExhaustedError):
        client.download(SIGNED, dest)
    assert dest.read_bytes() == b"old\n"


# --- Link paging: seats and legacy ------------------------------------------------------------


def _seat(i: int) -> dict:
    return {
        "assignee": {"login": f"user{i}", "id": i},
        "plan_type": "business",
        "created_at": "2026-01-01T00:00:00Z",
    }


def test_seats_follow_link_next_verbatim(client, rsps):
    page2 = f"{API}/organizations/4242/copilot/billing/seats?per_page=100&page=2"
    rsps.get(
        f"{API}/orgs/octo-demo/copilot/billing/seats",
        json={"total_seats": 3, "seats": [_seat(1), _seat(2)]},
        headers={"Link": f'<{page2}>; rel="next", <{page2}>; rel="last"'},
        match=[matchers.query_param_matcher({"per_page": "100"})],
    )
    rsps.get(
        f"{API}/organizations/4242/copilot/billing/seats",
        json={"total_seats": 3, "seats": [_seat(3)]},
        headers={"Link": f'<{API}/organizations/4242/copilot/billing/seats?per_page=100&page=1>; rel="prev"'},
        match=[matchers.query_param_matcher({"per_page": "100", "page": "2"})],
    )
    seats = list(client.seats(ORG))
    assert [s["assignee"]["id"] for s in seats] == [1, 2, 3]
    assert rsps.calls[1].request.url == page2
    assert client.stats["calls"] == 2


def test_legacy_metrics_pages_and_sends_since_until(client, rsps):
    url = f"{API}/orgs/octo-demo/copilot/metrics"
    page2 = f"{url}?since=2026-03-01T00%3A00%3A00Z&until=2026-03-03T23%3A59%3A59Z&per_page=100&page=2"
    rsps.get(
        url,
        json=[{"date": "2026-03-01"}, {"date": "2026-03-02"}],
        headers={"Link": f'<{page2}>; rel="next"'},
        match=[
            matchers.query_param_matcher(
                {"since": "2026-03-01T00:00:00Z", "until": "2026-03-03T23:59:59Z", "per_page": "100"}
            )
        ],
    )
    rsps.get(
        url,
        json=[{"date": "2026-03-03"}],
        match=[matchers.query_param_matcher({"page": "2"}, strict_match=False)],
    )
    days = client.legacy_metrics(ORG, date(2026, 3, 1), "2026-03-03")
    assert [d["date"] for d in days] == ["2026-03-01", "2026-03-02", "2026-03-03"]


def test_legacy_404_means_retired_and_is_never_retried(client, rsps, sleeps):
    rsps.get(f"{API}/orgs/octo-demo/copilot/metrics", status=404, json={"message": "Not Found"})
    with pytest.raises(LegacyApiRetiredError) as info:
        client.legacy_metrics(ORG, "2026-03-01", "2026-03-28")
    text = str(info.value)
    assert "retired by GitHub on 2026-04-02" in text
    assert text.startswith("organization:octo-demo legacy-metrics 2026-03-01..2026-03-28: HTTP 404")
    assert len(rsps.calls) == 1 and sleeps == []


def test_legacy_422_is_the_policy_not_retirement(client, rsps):
    rsps.get(f"{API}/orgs/octo-demo/copilot/metrics", status=422, json={"message": "setting is disabled"})
    with pytest.raises(MetricsDisabledError):
        client.legacy_metrics(ORG, "2026-03-01", "2026-03-02")


def test_billing_returns_the_object_and_rejects_enterprises(client, rsps):
    rsps.get(
        f"{API}/orgs/octo-demo/copilot/billing",
        json={"seat_breakdown": {"total": 12}, "plan_type": "business"},
    )
    assert client.billing(ORG)["seat_breakdown"]["total"] == 12
    with pytest.raises(ConfigError, match="organizations only"):
        client.billing(ENT)


# --- availability -----------------------------------------------------------------------------

BILLING = f"{API}/orgs/octo-demo/copilot/billing"
ORG_28 = f"{API}/orgs/octo-demo/copilot/metrics/reports/organization-28-day/latest"
WINDOW = {"download_links": [SIGNED], "report_start_day": "2026-10-24", "report_end_day": "2026-11-20"}


@pytest.mark.parametrize(
    ("billing", "report", "available", "status", "words"),
    [
        pytest.param(
            {"json": {"seat_breakdown": {"total": 40}}},
            {"json": WINDOW},
            True,
            200,
            "ends 2026-11-20",
            id="all good",
        ),
        pytest.param(
            {"status": 404}, None, False, 404, "no GitHub Copilot subscription", id="billing 404: no Copilot"
        ),
        pytest.param({"status": 401}, None, False, 401, "token was rejected", id="billing 401: bad token"),
        pytest.param(
            {"status": 403},
            {"json": WINDOW},
            True,
            200,
            "billing not readable",
            id="metrics role without billing",
        ),
        pytest.param(
            {"json": {"seat_breakdown": {"total": 40}}},
            {"status": 403},
            False,
            403,
            "'Copilot usage metrics'",
            id="report 403: scope or policy",
        ),
        pytest.param(
            {"json": {"seat_breakdown": {"total": 40}}},
            {"status": 422},
            False,
            422,
            "setting is disabled",
            id="report 422: metrics API disabled",
        ),
        pytest.param(
            {"json": {"seat_breakdown": {"total": 3}}},
            {"status": 204},
            True,
            204,
            "no organization-28-day",
            id="204",
        ),
    ],
)
def test_check_availability(client, rsps, billing, report, available, status, words):
    rsps.get(BILLING, **billing)
    if report is not None:
        rsps.get(ORG_28, **report)
    result = client.check_availability(ORG)
    assert isinstance(result, Availability)
    assert (result.available, result.status) == (available, status)
    assert words in result.reason
    _secret_free(result.reason)


def test_check_availability_enterprise_probes_the_enterprise_report_only(client, rsps):
    rsps.get(
        f"{API}/enterprises/octo-enterprise/copilot/metrics/reports/enterprise-28-day/latest", json=WINDOW
    )
    result = client.check_availability(ENT)
    assert result.available and result.report_end_day == DAY
    assert len(rsps.calls) == 1


def test_check_availability_raises_on_outage(sleeps, rsps):
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, max_attempts=2)
    rsps.get(BILLING, status=502)
    with pytest.raises(RetriesExhaustedError, match="billing: HTTP 502"):
        client.check_availability(ORG)


# --- secrets never show -----------------------------------------------------------------------


def test_logs_and_errors_never_show_token_or_signed_url(sleeps, rsps, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    redact.install_log_redaction()
    client = CopilotClient(API, TOKEN, sleep=sleeps.append, max_attempts=2)
    rsps.get(USERS_URL, status=500, json={"message": f"echo {TOKEN} {SIGNED}"})
    rsps.get(USERS_URL, **OK)
    client.report_links(ORG, "users-1-day", DAY)
    rsps.get(SIGNED_BASE, body=requests.exceptions.ConnectionError(f"reset while reading {SIGNED}"))
    with pytest.raises(RetriesExhaustedError) as info:
        client.download(SIGNED, tmp_path / "p.ndjson", scope=ORG, report="users-1-day", day=DAY)
    _secret_free(str(info.value))
    assert info.value.__cause__ is None
    _secret_free(caplog.text)
    assert "copilot-reports.github.com/r/users/part-1.ndjson?<redacted>" in caplog.text
    _secret_free(repr(client))


def test_stats_copy_and_serialise_as_plain_dicts(client):
    import copy
    import json

    client.stats.add("calls", 2)
    client.stats.status(200)
    expected = {
        "calls": 2,
        "retries": 0,
        "downloads": 0,
        "bytes": 0,
        "by_status": {"200": 1},
        "requests": 0,
        "retried_requests": 0,
        "max_retries": 0,
        "waited_seconds": 0.0,
        "retries_by_cause": {},
    }
    assert copy.deepcopy(client.stats) == expected
    assert type(copy.deepcopy(client.stats)) is dict
    assert json.loads(json.dumps(client.stats)) == expected


def test_errors_pickle_with_their_context():
    import pickle

    err = RetriesExhaustedError(503, ORG, "users-1-day", DAY, "gave up", request_id="R:1")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert type(back) is RetriesExhaustedError
    assert str(back) == str(err)
    assert (back.status, back.scope, back.day, back.request_id) == (503, ORG, DAY, "R:1")


# --- against the bundled simulator (a real HTTP server on 127.0.0.1) --------------------------

SIM_DAY = date(2026, 11, 18)


@pytest.fixture(scope="module")
def sim_server():
    simulator = pytest.importorskip("copilot_dev.simulator")
    with simulator.SimulatorServer() as server:
        yield server


@pytest.fixture
def sim(sim_server):
    sim_server.faults.clear()
    yield sim_server
    sim_server.faults.clear()


@pytest.fixture
def sim_client(sim, sleeps):
    return CopilotClient(sim.url, sim.dataset.config.token, sleep=sleeps.append, timeout=(5, 5))


def _fetch_all(client: CopilotClient, dest_dir, report: str = "users-1-day") -> list[bytes]:
    links = client.report_links(ORG, report, SIM_DAY)
    paths = [dest_dir / f"part-{i:04d}.ndjson" for i in range(1, len(links.links) + 1)]
    for url, path in zip(links.links, paths, strict=True):
        client.download(url, path, scope=ORG, report=report, day=SIM_DAY)
    return [p.read_bytes() for p in paths]


@pytest.mark.integration
def test_simulator_end_to_end_availability_links_downloads_seats(sim_client, sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    assert sim_client.check_availability(ORG).available
    parts = _fetch_all(sim_client, tmp_path)
    lines = [line for part in parts for line in part.splitlines() if line.strip()]
    assert len(lines) == len(sim.dataset.users(ORG, SIM_DAY))
    seats = list(sim_client.seats(ORG))
    assert len(seats) == len(sim.dataset.seats(ORG))
    assert sim_client.stats["downloads"] == len(parts)
    assert "sim-token" not in caplog.text and "signature=" not in caplog.text


@pytest.mark.integration
@pytest.mark.parametrize(
    ("kind", "options", "retries"),
    [
        pytest.param(
            "status", {"match": "users-1-day/2026-11-18$", "times": 2, "status": 503}, 2, id="503 twice"
        ),
        pytest.param("reset", {"match": "users-1-day/2026-11-18$"}, 1, id="connection reset mid-body"),
        pytest.param("rate_limit_429", {"match": "users-1-day/2026-11-18$"}, 1, id="429 Retry-After"),
        pytest.param(
            "secondary_rate_limit", {"match": "users-1-day/2026-11-18$"}, 1, id="403 secondary limit"
        ),
        pytest.param(
            "secondary_rate_limit",
            {"match": "users-1-day/2026-11-18/part-1", "where": "download"},
            1,
            id="403 secondary limit on the download host",
        ),
        pytest.param("truncated", {"match": "users-1-day/2026-11-18/part-1"}, 1, id="truncated download"),
        pytest.param(
            "status", {"match": "users-1-day/2026-11-18/part-2", "where": "download"}, 1, id="download 500"
        ),
    ],
)
def test_simulator_transport_faults_are_retried_to_the_same_bytes(
    sim_client, sim, sleeps, tmp_path, kind, options, retries
):
    clean = _fetch_all(sim_client, tmp_path / "clean")
    sim.faults.add(kind, **options)
    faulty_client = CopilotClient(sim.url, sim.dataset.config.token, sleep=sleeps.append)
    assert _fetch_all(faulty_client, tmp_path / "faulty") == clean
    assert faulty_client.stats["retries"] == retries
    assert len(sleeps) == retries


@pytest.mark.integration
def test_simulator_expired_link_raises_link_expired(sim_client, sim, tmp_path, sleeps):
    sim.faults.add("expired_link", match="users-1-day/2026-11-18/part-1")
    links = sim_client.report_links(ORG, "users-1-day", SIM_DAY)
    with pytest.raises(LinkExpiredError) as info:
        sim_client.download(
            links.links[0], tmp_path / "p.ndjson", scope=ORG, report="users-1-day", day=SIM_DAY
        )
    assert "signature=" not in str(info.value) and sleeps == []


@pytest.mark.integration
def test_simulator_rejects_a_wrong_token_with_a_clear_error(sim, sleeps):
    client = CopilotClient(sim.url, "not-the-token", sleep=sleeps.append)
    result = client.check_availability(ORG)
    assert (result.available, result.status) == (False, 401)
    assert "token was rejected" in result.reason and "not-the-token" not in result.reason


@pytest.mark.integration
def test_simulator_legacy_api_is_retired(sim_client):
    with pytest.raises(LegacyApiRetiredError, match="retired by GitHub on 2026-04-02"):
        sim_client.legacy_metrics(ORG, "2026-03-01", "2026-03-05")


@pytest.mark.integration
def test_simulator_slow_answer_times_out_then_succeeds(sim, sleeps):
    sim.faults.add("slow", match="users-1-day/2026-11-18$", seconds=1.0)
    client = CopilotClient(sim.url, sim.dataset.config.token, sleep=sleeps.append, timeout=(2, 0.3))
    assert client.report_links(ORG, "users-1-day", SIM_DAY) is not None
    assert client.stats["retries"] == 1 and client.stats["by_status"].get("error") == 1


@pytest.mark.integration
def test_simulator_seats_span_several_pages(make_simulator, sleeps):
    server = make_simulator(users_per_org=230)
    client = CopilotClient(server.url, server.dataset.config.token, sleep=sleeps.append)
    seats = list(client.seats(ORG))
    assert len(seats) == len(server.dataset.seats(ORG)) > 200
    assert server.count(r"/copilot/billing/seats$") == 3
