"""Failure/freshness alerts posted to a Slack-compatible webhook, tested against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from copilot_airflow import notify

SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"


class _Webhook:
    """A webhook endpoint on 127.0.0.1 that records JSON bodies and answers with a chosen status."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - stdlib naming
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(
                    {
                        "path": self.path,
                        "type": self.headers.get("Content-Type"),
                        **json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_PATH}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = _Webhook()
    yield hook
    hook.close()


def test_post_webhook_sends_slack_json(webhook):
    assert notify.post_webhook(webhook.url, "hello") == 200
    assert webhook.bodies == [{"path": SECRET_PATH, "type": "application/json", "text": "hello"}]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        pytest.param(404, "HTTP 404", id="404 from the webhook"),
        pytest.param(500, "HTTP 500", id="500 from the webhook"),
    ],
)
def test_refused_alert_raises_without_the_url(webhook, status, message):
    webhook.status = status
    with pytest.raises(notify.AlertError, match=message) as err:
        notify.post_webhook(webhook.url, "x")
    assert "secret" not in str(err.value) and "127.0.0.1" not in str(err.value)


def test_unreachable_webhook_raises_without_the_url():
    with pytest.raises(notify.AlertError, match="unreachable") as err:
        notify.post_webhook("http://127.0.0.1:9" + SECRET_PATH, "x", timeout=2)
    assert "secret" not in str(err.value)


def test_send_alert_uses_the_connection_when_it_exists(webhook, monkeypatch, caplog):
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPILOT_ALERTS_WEBHOOK", json.dumps({"conn_type": "http", "host": webhook.url})
    )
    assert notify.send_alert("data stopped arriving") is True
    assert [b["text"] for b in webhook.bodies] == ["data stopped arriving"]
    assert "secret" not in caplog.text


def test_send_alert_without_connection_only_logs(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_COPILOT_ALERTS_WEBHOOK", raising=False)
    assert notify.send_alert("only logged") is False
    assert "only logged" in caplog.text


def test_failure_callback_posts_a_redacted_readable_line(webhook, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPILOT_ALERTS_WEBHOOK", json.dumps({"conn_type": "http", "host": webhook.url})
    )
    ti = SimpleNamespace(
        dag_id="copilot_usage_ingest", task_id="ingest_scope.fetch", map_index=1, run_id="r1"
    )
    error = RuntimeError(
        "download failed: https://dl.example/f?expires=1&signature=abcdef0123456789 "
        "token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    )
    notify.on_failure({"ti": ti, "run_id": "r1", "exception": error})
    (body,) = webhook.bodies
    assert body["text"].startswith(
        "Copilot warehouse: task copilot_usage_ingest.ingest_scope.fetch[1] failed in run r1"
    )
    assert "abcdef0123456789" not in body["text"] and "ghp_ABCDEF" not in body["text"]


def test_failure_callback_never_raises(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPILOT_ALERTS_WEBHOOK",
        json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9/x"}),
    )
    notify.on_failure({"ti": None, "exception": ValueError("boom")})  # unreachable webhook: logged only


@pytest.mark.parametrize(
    ("conn", "url"),
    [
        pytest.param(
            {"conn_type": "http", "host": "https://hooks.example/a"}, "https://hooks.example/a", id="full URL"
        ),
        pytest.param(
            {"conn_type": "https", "host": "hooks.example", "schema": "services/a", "port": None},
            "https://hooks.example/services/a",
            id="host + path",
        ),
        pytest.param(
            {"conn_type": "http", "host": "127.0.0.1", "port": 8081, "schema": "/hook"},
            "http://127.0.0.1:8081/hook",
            id="host + port",
        ),
    ],
)
def test_webhook_url_from_connection_parts(conn, url):
    full = {"host": None, "port": None, "schema": None, **conn}
    assert notify.webhook_url(SimpleNamespace(**full)) == url
