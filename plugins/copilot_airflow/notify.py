"""Optional alerts: a Slack-compatible JSON webhook taken from the Connection ``copilot_alerts_webhook``.

When the Connection does not exist, alerts are only logged. The Connection's host is the full
webhook URL (``https://hooks.slack.com/services/...`` or any endpoint accepting
``{"text": ...}``), e.g.
``AIRFLOW_CONN_COPILOT_ALERTS_WEBHOOK='{"conn_type": "http", "host": "https://hooks.example/T/B/X"}'``.
A webhook URL is a credential: it is never logged, and failures to post are reported without it.

``on_failure`` is the task failure callback of both DAGs; ``send_alert`` posts any text.
"""

from __future__ import annotations

import json
from typing import Any

from copilot_warehouse import redact

# A redacting logger: outside the copilot_warehouse package, install_log_redaction does not reach it.
log = redact.get_logger(__name__)

ALERT_CONN_ID = "copilot_alerts_webhook"
TIMEOUT_SECONDS = 10


class AlertError(RuntimeError):
    """The webhook refused the alert or could not be reached (message has no URL)."""


def post_webhook(url: str, text: str, *, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST ``{"text": text}`` as JSON to ``url``.

    Returns:
        The HTTP status (2xx).

    Raises:
        AlertError: connection failure or a non-2xx answer; the message never contains ``url``.
    """
    import requests

    try:
        response = requests.post(
            url,
            data=json.dumps({"text": text}),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise AlertError(f"alert webhook unreachable ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise AlertError(f"alert webhook answered HTTP {response.status_code}")
    return response.status_code


def webhook_url(conn: Any) -> str:
    """The URL of a webhook Connection: its host when it is a full URL, else built from its parts."""
    host = (conn.host or "").strip()
    if host.startswith(("http://", "https://")):
        return host
    scheme = "http" if (conn.conn_type or "").lower() == "http" else "https"
    port = f":{conn.port}" if conn.port else ""
    path = f"/{conn.schema.lstrip('/')}" if conn.schema else ""
    return f"{scheme}://{host}{port}{path}"


def _alert_url() -> str | None:
    """The webhook URL from the Connection, or None when it is not configured."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(ALERT_CONN_ID)
    except Exception:  # noqa: BLE001 - a missing Connection raises different errors per context
        return None
    url = webhook_url(conn)
    if url.endswith("://"):
        return None
    try:  # the URL embeds a credential: mask it in task logs like a password
        from airflow.sdk.log import mask_secret

        mask_secret(url)
    except ImportError:  # pragma: no cover - older SDKs
        pass
    return url


def send_alert(text: str, url: str | None = None) -> bool:
    """Log ``text`` as a warning and post it to the alert webhook when one is configured.

    Args:
        text: the alert (no secrets: it is posted and logged as is).
        url: webhook URL; default: from the Connection ``copilot_alerts_webhook``.

    Returns:
        True when posted, False when no webhook is configured or posting failed (logged).
    """
    log.warning("ALERT: %s", text)
    url = url or _alert_url()
    if not url:
        return False
    try:
        post_webhook(url, text)
    except AlertError as exc:
        log.error("could not send the alert: %s", exc)
        return False
    return True


def failure_text(context: dict[str, Any]) -> str:
    """One readable line about a failed task from its Airflow context (no secrets)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or context.get("dag", {}) and getattr(context["dag"], "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    run_id = context.get("run_id") or getattr(ti, "run_id", "?")
    exc = context.get("exception")
    where = f"{task_id}[{map_index}]" if map_index not in (None, -1) else task_id
    from copilot_warehouse.redact import redact

    reason = redact(f"{type(exc).__name__}: {exc}") if exc is not None else "see the task log"
    return f"Copilot warehouse: task {dag_id}.{where} failed in run {run_id}: {reason}"[:2000]


def on_failure(context: dict[str, Any]) -> None:
    """Task failure callback: alert with the DAG, task, run and the (redacted) error."""
    try:
        send_alert(failure_text(context))
    except Exception:  # noqa: BLE001 - an alert must never mask the task's own failure
        log.exception("the failure alert itself failed")
