"""GitHubCopilotHook: Connections from AIRFLOW_CONN_<ID> env vars (JSON and URI) -> CopilotClient."""

from __future__ import annotations

import json
from datetime import date

import pytest
import responses
from copilot_airflow.hooks import GitHubCopilotHook
from copilot_warehouse import redact
from copilot_warehouse.config import ConfigError, Scope
from copilot_warehouse.extract.client import CopilotClient

TOKEN = "ghs_HookTestToken00000000000000001"
ORG = Scope("organization", "octo-demo")


def _set_conn(monkeypatch, conn_id: str, value: object) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", value if isinstance(value, str) else json.dumps(value)
    )


def test_provider_shape():
    assert GitHubCopilotHook.conn_name_attr == "github_copilot_conn_id"
    assert GitHubCopilotHook.default_conn_name == "github_copilot"
    assert GitHubCopilotHook.conn_type == "http"
    assert GitHubCopilotHook.hook_name == "GitHub Copilot"
    assert GitHubCopilotHook().github_copilot_conn_id == "github_copilot"
    assert "host" in GitHubCopilotHook.get_ui_field_behaviour()["relabeling"]


@pytest.mark.parametrize(
    ("value", "base_url", "token", "api_version", "timeout"),
    [
        pytest.param(
            {"conn_type": "http", "host": "https://api.github.com", "password": TOKEN},
            "https://api.github.com",
            TOKEN,
            "2026-03-10",
            (10.0, 60.0),
            id="JSON, defaults",
        ),
        pytest.param(
            {
                "conn_type": "http",
                "host": "https://api.octo.ghe.com/",
                "password": TOKEN,
                "extra": {"api_version": "2022-11-28", "timeout": [3, 30]},
            },
            "https://api.octo.ghe.com",
            TOKEN,
            "2022-11-28",
            (3.0, 30.0),
            id="JSON, GHE.com host, extra api_version and timeout",
        ),
        pytest.param(
            "http://:tok%2Fwith%2Bchars-0001@127.0.0.1:8123/?api_version=2022-11-28&timeout=15",
            "http://127.0.0.1:8123",
            "tok/with+chars-0001",
            "2022-11-28",
            15.0,
            id="URI, simulator on loopback with port",
        ),
        pytest.param(
            f"http://:{TOKEN}@api.github.com/https",
            "https://api.github.com",
            TOKEN,
            "2026-03-10",
            (10.0, 60.0),
            id="URI, schema path picks https",
        ),
        pytest.param(
            {"conn_type": "http", "host": "octo.ghe.com", "password": TOKEN},
            "https://api.octo.ghe.com",
            TOKEN,
            "2026-03-10",
            (10.0, 60.0),
            id="JSON, bare GHE.com host gets https and api.",
        ),
    ],
)
def test_client_from_env_var_connection(monkeypatch, value, base_url, token, api_version, timeout):
    _set_conn(monkeypatch, "copilot_test_conn", value)
    hook = GitHubCopilotHook("copilot_test_conn")
    client = hook.get_conn()
    assert isinstance(client, CopilotClient)
    assert (client.base_url, client.api_version, client.timeout) == (base_url, api_version, timeout)
    assert client.session.headers["Authorization"] == f"Bearer {token}"
    assert hook.get_conn() is client, "the client is built once and cached"
    assert redact.redact(f"x {token} y") == "x *** y", "the token is registered for redaction"
    assert token not in repr(client)


def test_token_is_also_masked_by_airflow(monkeypatch):
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    _set_conn(
        monkeypatch, "copilot_mask_conn", {"conn_type": "http", "host": "api.github.com", "password": TOKEN}
    )
    GitHubCopilotHook("copilot_mask_conn").get_conn()
    assert TOKEN not in airflow_redact(f"leaked {TOKEN}")


def test_client_kwargs_override_the_connection(monkeypatch):
    _set_conn(
        monkeypatch,
        "copilot_kw_conn",
        {"conn_type": "http", "host": "api.github.com", "password": TOKEN, "extra": {"max_attempts": 7}},
    )
    assert GitHubCopilotHook("copilot_kw_conn").get_conn().max_attempts == 7
    assert GitHubCopilotHook("copilot_kw_conn", max_attempts=2).get_conn().max_attempts == 2


def test_missing_connection_says_how_to_fix_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_COPILOT_MISSING_CONN", raising=False)
    with pytest.raises(ConfigError) as info:
        GitHubCopilotHook("copilot_missing_conn").get_conn()
    text = str(info.value)
    assert text.startswith("Airflow Connection 'copilot_missing_conn' is not defined")
    assert 'AIRFLOW_CONN_COPILOT_MISSING_CONN=\'{"conn_type":"http"' in text
    assert text.count(". ") == 0, "one sentence"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param(
            {"conn_type": "http", "host": "https://api.github.com"}, "has no token", id="no password"
        ),
        pytest.param(
            {"conn_type": "http", "host": "api.github.com", "password": TOKEN, "extra": {"timeout": "soon"}},
            "'timeout' must be seconds",
            id="bad timeout",
        ),
        pytest.param(
            {"conn_type": "http", "host": "ftp://api.github.com", "password": TOKEN},
            "http:// or https://",
            id="bad scheme",
        ),
    ],
)
def test_bad_connections_are_config_errors(monkeypatch, value, words):
    _set_conn(monkeypatch, "copilot_bad_conn", value)
    with pytest.raises(ConfigError, match=words) as info:
        GitHubCopilotHook("copilot_bad_conn").get_conn()
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    ("status", "body", "ok", "words"),
    [
        pytest.param(
            200,
            {"resources": {"core": {"limit": 5000, "remaining": 4990}}},
            True,
            "4990 of 5000 requests left",
            id="200",
        ),
        pytest.param(401, {"message": "Bad credentials"}, False, "token was rejected", id="401 bad token"),
        pytest.param(
            404, {"message": "Not Found"}, True, "accepted the token", id="404 server without /rate_limit"
        ),
    ],
)
def test_test_connection(monkeypatch, status, body, ok, words):
    _set_conn(
        monkeypatch, "copilot_tc_conn", {"conn_type": "http", "host": "api.github.com", "password": TOKEN}
    )
    hook = GitHubCopilotHook("copilot_tc_conn", sleep=lambda _s: None)
    with responses.RequestsMock() as rsps:
        rsps.get("https://api.github.com/rate_limit", status=status, json=body)
        result, message = hook.test_connection()
    assert result is ok
    assert words in message
    assert TOKEN not in message


def test_test_connection_without_connection_reports_instead_of_raising(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_COPILOT_NONE_CONN", raising=False)
    ok, message = GitHubCopilotHook("copilot_none_conn").test_connection()
    assert ok is False and "AIRFLOW_CONN_COPILOT_NONE_CONN" in message


@pytest.mark.integration
def test_hook_against_the_simulator(monkeypatch, tmp_path, simulator):
    host = simulator.url.removeprefix("http://")
    _set_conn(monkeypatch, "copilot_sim_conn", f"http://:{simulator.dataset.config.token}@{host}")
    hook = GitHubCopilotHook("copilot_sim_conn")
    ok, message = hook.test_connection()
    assert ok is True, message
    client = hook.get_conn()
    assert client.base_url == simulator.url
    assert client.check_availability(ORG).available
    links = client.report_links(ORG, "organization-1-day", date(2026, 11, 18))
    assert client.download(links.links[0], tmp_path / "part-0001.ndjson") > 0


@pytest.mark.integration
def test_hook_with_a_wrong_token_fails_its_connection_test(monkeypatch, simulator):
    _set_conn(
        monkeypatch,
        "copilot_sim_bad_conn",
        {"conn_type": "http", "host": simulator.url, "password": "wrong-token-value"},
    )
    ok, message = GitHubCopilotHook("copilot_sim_bad_conn").test_connection()
    assert ok is False
    assert "HTTP 401" in message and "wrong-token-value" not in message
