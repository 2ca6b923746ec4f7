"""``python -m copilot_dev.simulator`` prints its URL, serves, and stops cleanly on a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import requests
from copilot_dev.simulator import Dataset, SimulatorConfig


def start(*args: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot_dev.simulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return proc, line


@pytest.mark.parametrize(
    ("sig", "args", "env", "token"),
    [
        pytest.param(signal.SIGTERM, (), {}, "sim-token", id="defaults, SIGTERM"),
        pytest.param(signal.SIGINT, ("--token", "cli-secret-1"), {}, "cli-secret-1", id="--token, SIGINT"),
        pytest.param(
            signal.SIGTERM,
            (),
            {"COPILOT_SIMULATOR_TOKEN": "env-secret-2"},
            "env-secret-2",
            id="token from the environment",
        ),  # fmt: skip
    ],
)
def test_cli_serves_until_a_signal(sig: int, args: tuple, env: dict, token: str) -> None:
    proc, line = start(
        "--orgs", "cli-org", "--enterprises", "", "--users", "8", "--seed", "5", *args, env=env
    )
    try:
        info = json.loads(line)
        assert set(info) == {"url"} and info["url"].startswith("http://127.0.0.1:")
        assert token not in line
        auth = {"Authorization": f"Bearer {token}"}
        r = requests.get(info["url"] + "/orgs/cli-org/copilot/billing/seats", headers=auth, timeout=10)
        assert r.status_code == 200 and r.json()["total_seats"] == 8
        bad_auth = {"Authorization": "Bearer x"}
        wrong = requests.get(info["url"] + "/orgs/cli-org/copilot/billing", headers=bad_auth, timeout=10)
        assert wrong.status_code == 401
        assert (
            requests.get(
                info["url"] + "/orgs/octo-demo/copilot/billing", headers=auth, timeout=10
            ).status_code
            == 404
        )
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert token not in out + err


def test_cli_day_range_and_legacy_range() -> None:
    proc, line = start("--start-day", "2026-01-05", "--end-day", "2026-01-20", "--parts", "3",
                       "--legacy-start", "2026-01-01", "--legacy-end", "2026-01-31")  # fmt: skip
    try:
        url = json.loads(line)["url"]
        auth = {"Authorization": "Bearer sim-token"}
        report = url + "/orgs/octo-demo/copilot/metrics/reports/users-1-day"
        assert requests.get(report, params={"day": "2026-01-21"}, headers=auth, timeout=10).status_code == 204
        ok = requests.get(report, params={"day": "2026-01-14"}, headers=auth, timeout=10)
        assert ok.status_code == 200 and len(ok.json()["download_links"]) == 3
        legacy = requests.get(url + "/orgs/octo-demo/copilot/metrics", headers=auth, timeout=10)
        assert legacy.status_code == 200 and len(legacy.json()) == 31
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--start-day", "2026-02-30"), "YYYY-MM-DD", id="impossible date"),
        pytest.param(("--start-day", "2026-05-01", "--end-day", "2026-04-01"), "before", id="reversed range"),
        pytest.param(("--orgs", "bad_org!"), "not a valid GitHub organization name", id="bad org slug"),
        pytest.param(("--legacy-start", "2026-03-01"), "legacy_end", id="half a legacy range"),
    ],
)
def test_cli_rejects_bad_arguments_with_a_clear_message(args: tuple, message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "copilot_dev.simulator", "--port", "0", *args],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_cli_per_scope_answers_and_messy_mode(tmp_path) -> None:
    manifest_path = tmp_path / "manifest.json"
    proc, line = start("--forbidden", "acme-labs", "--metrics-disabled", "octo-enterprise",
                       "--unavailable-report", "octo-demo:user-teams-1-day",
                       "--unavailable-report", "octo-demo:users-28-day,acme-labs:repos-1-day",
                       "--messy", "--manifest", str(manifest_path))  # fmt: skip
    try:
        url = json.loads(line)["url"]
        auth = {"Authorization": "Bearer sim-token"}

        def status(path: str, **params: str) -> int:
            return requests.get(url + path, params=params, headers=auth, timeout=10).status_code

        reports = "/copilot/metrics/reports/"
        assert status("/orgs/acme-labs" + reports + "users-1-day", day="2026-11-18") == 403
        assert status("/orgs/acme-labs/copilot/billing/seats") == 200
        assert status("/enterprises/octo-enterprise" + reports + "enterprise-1-day", day="2026-11-18") == 422
        assert status("/orgs/octo-demo" + reports + "user-teams-1-day", day="2026-11-18") == 404
        assert status("/orgs/octo-demo" + reports + "users-28-day/latest") == 404
        assert status("/orgs/octo-demo" + reports + "users-1-day", day="2026-11-18") == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0
    expected = SimulatorConfig(
        forbidden_scopes=("acme-labs",),
        metrics_disabled_scopes=("octo-enterprise",),
        unavailable_reports={
            "octo-demo": ("user-teams-1-day", "users-28-day"),
            "acme-labs": ("repos-1-day",),
        },
        messy=True,
    )
    written = json.loads(manifest_path.read_text())
    assert written == Dataset(expected).messy_manifest()
    kinds = {e["kind"] for e in written["events"]}
    assert {"forbidden", "metrics_disabled", "report_unavailable", "restated_day", "empty_200"} <= kinds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--unavailable-report", "octo-demo"), "slug:report", id="no colon"),
        pytest.param(("--unavailable-report", "octo-demo:repo-1-day"), "has no report", id="unknown report"),
        pytest.param(("--forbidden", "no-such-org"), "not a configured", id="unknown forbidden scope"),
        pytest.param(("--metrics-disabled", "no-such-ent"), "not a configured", id="unknown disabled scope"),
    ],
)
def test_cli_rejects_bad_per_scope_arguments(args: tuple, message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "copilot_dev.simulator", "--port", "0", *args],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""
