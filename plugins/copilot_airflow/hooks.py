"""``GitHubCopilotHook``: Airflow Connection ``github_copilot`` -> a ready :class:`CopilotClient`.

Provider-shaped (like ``HttpHook``/``GithubHook``): the Connection's host is the API base URL
(``https://api.github.com``, ``https://api.SUBDOMAIN.ghe.com`` or the simulator's
``http://127.0.0.1:PORT``), its password the token, and its extra JSON optional client settings::

    AIRFLOW_CONN_GITHUB_COPILOT='{"conn_type": "http", "host": "https://api.github.com",
        "password": "<token>", "extra": {"api_version": "2026-03-10", "timeout": 60,
        "max_connections": 4}}'

``max_connections`` (1..16) bounds the requests in flight to GitHub; without it the client reads
``COPILOT_MAX_CONNECTIONS`` (default 4).

The URI form works too: ``http://:<url-quoted token>@api.github.com/https?api_version=2026-03-10``
(the path, i.e. the Connection's schema, picks the URL scheme when the host has none).
All fetching logic lives in :mod:`copilot_warehouse.extract.client`; the hook only reads the Connection
and registers the token for redaction (ours and Airflow's masker).
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import BaseHook
from copilot_warehouse import config, redact
from copilot_warehouse.config import ConfigError
from copilot_warehouse.extract.client import (
    CopilotApiError,
    CopilotClient,
    build_base_url,
)

# Extra keys the hook understands, and the client argument each one sets.
EXTRA_KEYS = ("api_version", "timeout", "max_attempts", "max_wait", "max_connections")

CONNECTION_EXAMPLE = (
    'AIRFLOW_CONN_GITHUB_COPILOT=\'{"conn_type":"http","host":"https://api.github.com",'
    '"password":"<token>"}\''
)


def _timeout(value: Any) -> float | tuple[float, float] | None:
    """``timeout`` from extra: seconds, or ``[connect, read]``."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, list | tuple) and len(value) == 2:
            return (float(value[0]), float(value[1]))
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Connection '{config.CONN_ID}' extra 'timeout' must be seconds or [connect, read], got {value!r}"
        ) from None


class GitHubCopilotHook(BaseHook):
    """Build a :class:`~copilot_warehouse.extract.client.CopilotClient` from an Airflow Connection.

    Args:
        github_copilot_conn_id: the Connection id (default ``github_copilot``).
        **client_kwargs: passed to ``CopilotClient`` and override the Connection's extra
            (e.g. ``max_attempts=3``, or ``sleep=`` in tests).
    """

    conn_name_attr = "github_copilot_conn_id"
    default_conn_name = config.CONN_ID
    conn_type = "http"
    hook_name = "GitHub Copilot"

    def __init__(self, github_copilot_conn_id: str = default_conn_name, **client_kwargs: Any) -> None:
        super().__init__()
        self.github_copilot_conn_id = github_copilot_conn_id
        self.client_kwargs = client_kwargs
        self._client: CopilotClient | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the Connection form shows this hook's fields."""
        return {
            "hidden_fields": ["login", "port"],
            "relabeling": {
                "host": "API base URL",
                "password": "GitHub token",
                "schema": "Scheme (http/https)",
            },
            "placeholders": {
                "host": "https://api.github.com (GHE.com: https://api.SUBDOMAIN.ghe.com)",
                "password": "token with read:org (org) or manage_billing:copilot / read:enterprise",
                "extra": json.dumps({"api_version": config.DEFAULT_API_VERSION, "timeout": 60}),
            },
        }

    def _connection(self):
        from airflow.sdk.exceptions import AirflowNotFoundException

        conn_id = self.github_copilot_conn_id
        try:
            return self.get_connection(conn_id)
        except AirflowNotFoundException:
            env = f"AIRFLOW_CONN_{conn_id.upper()}"
            example = CONNECTION_EXAMPLE.replace("AIRFLOW_CONN_GITHUB_COPILOT", env)
            raise ConfigError(
                f"Airflow Connection '{conn_id}' is not defined (or {env} is not valid JSON or URI): "
                f"set {example} or add it with `airflow connections add {conn_id} --conn-type http "
                "--conn-host https://api.github.com --conn-password <token>`"
            ) from None

    def client_settings(self) -> dict[str, Any]:
        """The ``CopilotClient`` arguments this Connection yields (the token included).

        Raises:
            ConfigError: the Connection is missing, has no token, or has a malformed extra.
        """
        conn = self._connection()
        conn_id = self.github_copilot_conn_id
        token = (conn.password or "").strip()
        if not token:
            raise ConfigError(
                f"Airflow Connection '{conn_id}' has no token: put the GitHub token in its password "
                f"field, e.g. {CONNECTION_EXAMPLE}"
            )
        redact.register_secret(token, name="password")
        try:
            extra = conn.extra_dejson or {}
        except Exception:
            raise ConfigError(
                f"Airflow Connection '{conn_id}' has an extra that is not a JSON object"
            ) from None
        if not isinstance(extra, dict):
            raise ConfigError(f"Airflow Connection '{conn_id}' extra must be a JSON object")
        unknown = sorted(set(extra) - set(EXTRA_KEYS))
        if unknown:
            self.log.warning("Connection %s: ignoring unknown extra keys %s", conn_id, unknown)
        settings: dict[str, Any] = {
            "base_url": build_base_url(conn.host, conn.schema, conn.port),
            "token": token,
        }
        if extra.get("api_version"):
            settings["api_version"] = str(extra["api_version"])
        timeout = _timeout(extra.get("timeout"))
        if timeout is not None:
            settings["timeout"] = timeout
        for key, cast in (("max_attempts", int), ("max_wait", float)):
            if extra.get(key) not in (None, ""):
                try:
                    settings[key] = cast(extra[key])
                except (TypeError, ValueError):
                    raise ConfigError(f"Connection '{conn_id}' extra {key!r} must be a number") from None
        if extra.get("max_connections") not in (None, ""):
            settings["max_connections"] = config.max_connections(
                extra["max_connections"], f"Connection '{conn_id}' extra 'max_connections'"
            )
        settings.update(self.client_kwargs)
        return settings

    def get_conn(self) -> CopilotClient:
        """The :class:`CopilotClient` for this Connection (built once, then cached)."""
        if self._client is None:
            settings = self.client_settings()
            self._client = CopilotClient(**settings)
            self.log.info(
                "GitHub Copilot client for %s (API version %s)",
                self._client.base_url,
                self._client.api_version,
            )
        return self._client

    def test_connection(self) -> tuple[bool, str]:
        """Check that the API answers and accepts the token (``GET /rate_limit``, no quota cost).

        Returns:
            ``(ok, message)``; the message never contains the token.
        """
        try:
            client = self.get_conn()
        except ConfigError as err:
            return False, redact.redact(err)
        try:
            body = client.rate_limit()
        except CopilotApiError as err:
            if err.status == 404:
                # GitHub checks the token before routing, so a 404 here means the token was
                # accepted by a server without /rate_limit (the bundled simulator, some proxies).
                return True, f"{client.base_url} is reachable and accepted the token (no /rate_limit there)"
            return False, redact.redact(err)
        except Exception as err:  # noqa: BLE001 - test_connection reports, never raises
            return False, redact.exception_text(err)
        core = (body.get("resources") or {}).get("core") or body.get("rate") or {}
        left = f"; {core.get('remaining')} of {core.get('limit')} requests left this hour" if core else ""
        return True, f"{client.base_url} accepted the token{left}"
