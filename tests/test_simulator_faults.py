"""Every fault kind of the simulator is observable over real HTTP, and only where it was aimed.

Each test plans a fault on a running server (``server.faults.add(kind, match=..., ...)``), makes
the requests a client would make, and checks what the client sees. Data faults change the served
bytes only: the clean records still come from ``server.dataset``.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import date
from urllib.parse import urlsplit

import pytest
import requests
from copilot_dev.simulator import KIND_DOCS, KINDS, Dataset, SimulatorServer
from copilot_warehouse.config import Scope

HEADERS = {"Authorization": "Bearer sim-token", "X-GitHub-Api-Version": "2026-03-10"}
ORG = Scope("organization", "octo-demo")
DAY = "2026-11-18"
USERS = f"/orgs/octo-demo/copilot/metrics/reports/users-1-day?day={DAY}"
USERS_TARGET = f"users-1-day/{DAY}"


def get(sim: SimulatorServer, path: str, **kw) -> requests.Response:
    return requests.get(sim.url + path, headers=HEADERS, timeout=kw.pop("timeout", 10), **kw)


def links(sim: SimulatorServer, path: str = USERS) -> list[str]:
    r = get(sim, path)
    assert r.status_code == 200
    return r.json()["download_links"]


def clean_lines(sim: SimulatorServer) -> list[str]:
    return sim.dataset.report_lines(ORG, "users-1-day", date.fromisoformat(DAY))


def part_bodies(sim: SimulatorServer, path: str = USERS) -> list[str]:
    out = []
    for link in links(sim, path):
        r = requests.get(link, timeout=30)
        assert r.status_code == 200
        out.append(r.text)
    return out


def test_every_kind_is_documented() -> None:
    assert set(KIND_DOCS) == set(KINDS)
    assert all(len(doc) > 40 for doc in KIND_DOCS.values())


def test_an_unknown_kind_is_refused(simulator: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        simulator.faults.add("meteor", match="users")
    with pytest.raises(ValueError, match="where"):
        simulator.faults.add("status", where="elsewhere")


# --- transport faults ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503], ids=["500 burst", "502 burst", "503 burst"])
def test_status_burst_then_success(simulator: SimulatorServer, status: int) -> None:
    """status: the report call answers 500/502/503 `times` times, then the real answer."""
    fault = simulator.faults.add("status", match=USERS_TARGET, times=2, status=status)
    codes = [get(simulator, USERS).status_code for _ in range(3)]
    assert codes == [status, status, 200]
    assert fault.hits == 2
    assert simulator.count("users-1-day", status=status) == 2


def test_slow_response_past_the_client_timeout(simulator: SimulatorServer) -> None:
    """slow: the answer is held back `seconds`; a shorter read timeout fails, the retry succeeds."""
    simulator.faults.add("slow", match=USERS_TARGET, seconds=1.5)
    t0 = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        get(simulator, USERS, timeout=0.5)
    assert time.monotonic() - t0 < 1.4
    assert get(simulator, USERS, timeout=5).status_code == 200


def test_connection_reset_mid_body(simulator: SimulatorServer) -> None:
    """reset: headers and half the body arrive, then the TCP connection is reset; the next call works."""
    simulator.faults.add("reset", match=USERS_TARGET)
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        get(simulator, USERS)
    assert get(simulator, USERS).status_code == 200


def test_429_with_retry_after(simulator: SimulatorServer) -> None:
    """rate_limit_429: 429 with `Retry-After` (and the rate-limit headers); the next call works."""
    simulator.faults.add("rate_limit_429", match="billing/seats", retry_after=7)
    r = get(simulator, "/orgs/octo-demo/copilot/billing/seats")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert "x-ratelimit-limit" in r.headers
    assert get(simulator, "/orgs/octo-demo/copilot/billing/seats").status_code == 200


def test_secondary_rate_limit_403_with_remaining_zero_and_reset(simulator: SimulatorServer) -> None:
    """secondary_rate_limit: 403 with `x-ratelimit-remaining: 0` and a reset a few seconds ahead."""
    simulator.faults.add("secondary_rate_limit", match=USERS_TARGET, reset_in=5)
    r = get(simulator, USERS)
    assert r.status_code == 403
    assert "secondary rate limit" in r.json()["message"]
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert 0 < int(r.headers["x-ratelimit-reset"]) - time.time() <= 6
    ok = get(simulator, USERS)
    assert ok.status_code == 200 and int(ok.headers["x-ratelimit-remaining"]) > 0


def test_expired_link_fault_answers_403_from_the_download_path(simulator: SimulatorServer) -> None:
    """expired_link: the download answers 403 'Request has expired'; fresh links work."""
    fault = simulator.faults.add("expired_link", match=USERS_TARGET)
    first = links(simulator)
    r = requests.get(first[0], timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["message"]
    assert fault.hits == 1
    assert [requests.get(u, timeout=10).status_code for u in links(simulator)] == [200, 200]


def test_truncated_download_is_shorter_than_its_content_length(simulator: SimulatorServer) -> None:
    """truncated: the download declares its full Content-Length but the connection closes early."""
    simulator.faults.add("truncated", match=USERS_TARGET + "/part-1", fraction=0.5)
    link = links(simulator)[0]
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(link, timeout=10)
    # Seen at the socket: the declared length is larger than what arrives before the close.
    simulator.faults.add("truncated", match=USERS_TARGET + "/part-1", fraction=0.25)
    parts = urlsplit(link)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
    )
    assert 0 < len(body) < length
    assert len(body) == int(length * 0.25)


@pytest.mark.parametrize(
    ("where", "api_status", "download_status"),
    [
        pytest.param("api", 503, 200, id="where=api hits the report call only"),
        pytest.param("download", 200, 503, id="where=download hits the download only"),
    ],
)
def test_where_narrows_a_fault(
    simulator: SimulatorServer, where: str, api_status: int, download_status: int
) -> None:
    simulator.faults.add("status", match=USERS_TARGET, times=None, where=where, status=503)
    r = get(simulator, USERS)
    assert r.status_code == api_status
    if api_status == 200:
        assert requests.get(r.json()["download_links"][0], timeout=10).status_code == download_status


def test_a_fault_hits_only_the_matching_report_and_day(simulator: SimulatorServer) -> None:
    simulator.faults.add("status", match=f"/orgs/octo-demo/.*/{USERS_TARGET}", times=None, status=500)
    assert get(simulator, USERS).status_code == 500
    assert get(simulator, USERS.replace(DAY, "2026-11-17")).status_code == 200
    assert (
        get(simulator, f"/orgs/octo-demo/copilot/metrics/reports/organization-1-day?day={DAY}").status_code
        == 200
    )
    assert get(simulator, USERS.replace("octo-demo", "acme-labs")).status_code == 200
    assert get(simulator, USERS).status_code == 500  # times=None: every time
    simulator.faults.clear()
    assert len(simulator.faults) == 0
    assert get(simulator, USERS).status_code == 200


def test_seat_pages_are_targeted_by_page(simulator: SimulatorServer) -> None:
    simulator.faults.add("status", match=r"billing/seats/page-2$", status=502)
    assert get(simulator, "/orgs/octo-demo/copilot/billing/seats?per_page=10&page=1").status_code == 200
    assert get(simulator, "/orgs/octo-demo/copilot/billing/seats?per_page=10&page=2").status_code == 502
    assert get(simulator, "/orgs/octo-demo/copilot/billing/seats?per_page=10&page=2").status_code == 200


# --- data faults -----------------------------------------------------------------------------


def test_malformed_line_is_inserted_and_every_record_survives(simulator: SimulatorServer) -> None:
    """malformed_line: one line is not JSON; all real records are still served."""
    simulator.faults.add("malformed_line", match=USERS_TARGET + "/part-1", line=1)
    lines = [line for body in part_bodies(simulator) for line in body.splitlines()]
    bad = []
    good = []
    for line in lines:
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            bad.append(line)
    assert len(bad) == 1 and lines[1] == bad[0]
    assert good == [json.loads(line) for line in clean_lines(simulator)]


def test_json_array_instead_of_ndjson(simulator: SimulatorServer) -> None:
    """json_array: a part arrives as one JSON array holding the same records."""
    simulator.faults.add("json_array", match=USERS_TARGET)
    bodies = part_bodies(simulator)
    records = []
    for body in bodies:
        assert body.lstrip().startswith("[")
        records += json.loads(body)
    assert records == [json.loads(line) for line in clean_lines(simulator)]


def test_a_ten_megabyte_line_is_a_valid_record(simulator: SimulatorServer) -> None:
    """huge_line: a valid record on a line longer than 10 MB."""
    simulator.faults.add("huge_line", match=USERS_TARGET + "/part-1")
    first = part_bodies(simulator)[0].splitlines()
    assert len(first[0]) > 10 * 1024 * 1024
    rec = json.loads(first[0])
    assert len(rec.pop("_simulator_padding")) == 10 * 1024 * 1024
    assert rec == json.loads(clean_lines(simulator)[0])


def test_records_repeated_across_parts(simulator: SimulatorServer) -> None:
    """repeated_records: part 2 starts with records of part 1; deduplicated, the data is unchanged."""
    simulator.faults.add("repeated_records", match=USERS_TARGET + "/part-2", count=3)
    one, two = (body.splitlines() for body in part_bodies(simulator))
    assert two[:3] == one[:3]
    unique = {json.loads(line)["user_id"]: line for line in one + two}
    assert len(one) + len(two) == len(clean_lines(simulator)) + 3
    assert sorted(unique.values()) == sorted(clean_lines(simulator))


@pytest.mark.parametrize(
    ("kind", "opts", "check"),
    [
        pytest.param(
            "unknown_fields", {},
            lambda rec, clean: rec["future_counter_sum"] == 3 and "totals_by_future_surface" in rec
            and {k: v for k, v in rec.items() if k in clean} == clean,
            id="unknown fields added",
        ),
        pytest.param(
            "unknown_fields", {"fields": {"brand_new": None}},
            lambda rec, clean: "brand_new" in rec and rec["brand_new"] is None,
            id="chosen unknown field",
        ),
        pytest.param(
            "missing_fields", {},
            lambda rec, clean: not {"totals_by_language_model", "used_cli", "ai_credits_used"} & set(rec)
            and rec["user_id"] == clean["user_id"],
            id="optional fields missing",
        ),
        pytest.param(
            "missing_fields", {"fields": ["user_id"]},
            lambda rec, clean: "user_id" not in rec,
            id="key field missing",
        ),
    ],
)  # fmt: skip
def test_schema_drift_faults(simulator: SimulatorServer, kind: str, opts: dict, check) -> None:
    """unknown_fields / missing_fields: records gain fields nobody knows or lose fields (even a key)."""
    simulator.faults.add(kind, match=USERS_TARGET, **opts)
    served = [json.loads(line) for body in part_bodies(simulator) for line in body.splitlines()]
    clean = [json.loads(line) for line in clean_lines(simulator)]
    assert len(served) == len(clean)
    assert all(check(rec, c) for rec, c in zip(served, clean, strict=True))


def test_negative_and_non_numeric_counters(simulator: SimulatorServer) -> None:
    """bad_counters: a negative counter and a non-numeric counter in otherwise valid records."""
    simulator.faults.add("bad_counters", match=USERS_TARGET + "/part-1")
    records = [json.loads(line) for line in part_bodies(simulator)[0].splitlines()]
    assert records[0]["code_generation_activity_count"] == -7
    assert records[1]["code_generation_activity_count"] == "12a"
    assert all(isinstance(r["code_generation_activity_count"], int) for r in records[2:])


def test_data_faults_leave_the_dataset_clean(simulator: SimulatorServer) -> None:
    for kind in ("malformed_line", "bad_counters", "missing_fields", "unknown_fields", "repeated_records"):
        simulator.faults.add(kind, match=USERS_TARGET)
    faulted = part_bodies(simulator)
    clean = [line + "\n" for line in clean_lines(simulator)]
    assert "".join(faulted) != "".join(clean)
    fresh = Dataset(simulator.config).report_lines(ORG, "users-1-day", date.fromisoformat(DAY))
    assert clean_lines(simulator) == fresh
    simulator.faults.clear()
    assert "".join(part_bodies(simulator)) == "".join(clean)


def test_aggregate_report_faults_apply_to_its_single_part(simulator: SimulatorServer) -> None:
    path = f"/orgs/octo-demo/copilot/metrics/reports/organization-1-day?day={DAY}"
    simulator.faults.add("json_array", match=f"organization-1-day/{DAY}")
    (body,) = part_bodies(simulator, path)
    assert json.loads(body) == [simulator.dataset.aggregate(ORG, date.fromisoformat(DAY))]
