"""The simulator's HTTP server: GitHub's Copilot REST API on 127.0.0.1, with signed downloads.

A real HTTP server (stdlib ``ThreadingHTTPServer``, HTTP/1.1 with keep-alive) serving
:class:`~copilot_dev.simulator.data.Dataset` the way GitHub serves the usage metrics
reports (reference §3-§5): report calls answer ``download_links``; the links point at
``/downloads/<opaque>?expires=..&signature=..`` on the same server, are HMAC-signed, expire after
``link_ttl_seconds`` and are refused (403) when expired, badly signed or sent with an
``Authorization`` header. API routes check the token and the ``X-GitHub-Api-Version`` header and
send GitHub's rate-limit headers. ``requests`` records every call as
``(method, path_without_query, status)``; logs (logger ``copilot_dev.simulator``) never
contain a query string, so neither the token nor a signature ends up in a log.

Per-scope answers of real deployments (``SimulatorConfig`` fields, changeable while serving):

- ``forbidden_scopes``: every metrics call of the scope (``/copilot/metrics/reports/...`` and the
  legacy ``/copilot/metrics``) answers 403 with GitHub's message for a disabled "Copilot usage
  metrics" policy or a missing permission; ``/copilot/billing`` and ``/copilot/billing/seats`` still
  answer 200. :meth:`SimulatorServer.set_forbidden` flips it.
- ``metrics_disabled_scopes``: metrics calls answer 422 "Copilot Usage Metrics API setting is
  disabled at the organization or enterprise level" (:meth:`SimulatorServer.set_metrics_disabled`).
- ``unavailable_reports``: the listed reports answer 404 for that scope while the others work
  (:meth:`SimulatorServer.set_report_available` turns one on, or off, later).
- An org or enterprise the simulator does not know answers 404 on every route.

Checks run in that order, after the token check: 401, unknown scope 404, 403, 422, unknown or
unavailable report 404, bad ``day`` 400, planned faults, then the answer.

In messy mode (``SimulatorConfig(messy=True)``, :mod:`copilot_dev.simulator.messy`) the
server also serves a restated day's first version on the first report-links call of that report
and day (the final version afterwards; the download links carry the version they were handed out
with, see :meth:`SimulatorServer.served_versions`) and answers some no-report days with an empty
200 (``""``, ``null`` or no body) instead of 204.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import socket
import struct
import threading
import time
from collections import OrderedDict
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from copilot_warehouse.config import ENTERPRISE, ORGANIZATION, Scope

from copilot_dev.simulator.data import (
    DAILY_REPORTS_SERVED,
    LATEST_REPORTS_SERVED,
    Dataset,
    SimulatorConfig,
    split_parts,
)
from copilot_dev.simulator.faults import FaultPlan, apply_data_faults
from copilot_dev.simulator.messy import (
    FINAL_VERSION,
    FIRST_VERSION,
    FORBIDDEN_MESSAGE,
    METRICS_DISABLED_MESSAGE,
)

log = logging.getLogger("copilot_dev.simulator")

SUPPORTED_API_VERSIONS = ("2022-11-28", "2026-03-10")
RATE_LIMIT = 5000
DOCS_URL = "https://docs.github.com/rest"
_QUERY_RE = re.compile(r"\?[^\s\"']*")

_REPORT_RE = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/metrics/reports/([^/]+)(/latest)?/?$")
_BILLING_RE = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/billing(/seats)?/?$")
_LEGACY_RE = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/metrics/?$")
_DOWNLOAD_RE = re.compile(r"^/downloads/([A-Za-z0-9_=-]+)$")


def strip_query(text: str) -> str:
    """Remove every ``?query`` from ``text`` (used on every log line)."""
    return _QUERY_RE.sub("", text)


class _Reset(Exception):
    """Raised inside a handler after a connection was reset on purpose."""


class SimulatorServer:
    """A running GitHub Copilot API simulator.

    Args:
        config: What to serve (defaults to :class:`SimulatorConfig`'s defaults).
        host: Interface to bind (keep 127.0.0.1).
        port: TCP port; 0 picks a free one (see :attr:`url` after :meth:`start`).

    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self.dataset = Dataset(self.config)
        self.faults = FaultPlan()
        self.requests: list[tuple[str, str, int]] = []
        self.host = host
        self.port = port
        self._secret = secrets.token_bytes(32)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._used = 0
        self._reset_at = int(time.time()) + 3600
        self._parts_cache: OrderedDict[tuple, list[list[str]] | None] = OrderedDict()
        self._forbidden: set[str] = set(self.config.forbidden_scopes)
        self._metrics_disabled: set[str] = set(self.config.metrics_disabled_scopes)
        self._unavailable: set[tuple[str, str]] = set(self.dataset.unavailable_reports())
        self._served: dict[tuple[Scope, str, str], list[int]] = {}
        # scope -> (seat listing, total_seats): built once, not per page (O(seats^2 / per_page))
        self._seats_cache: dict[Scope, tuple[list[dict[str, Any]], int]] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (valid after :meth:`start`)."""
        if self._httpd is None:
            raise RuntimeError("the simulator is not running: call start() first")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> SimulatorServer:
        """Bind and serve in a background thread; returns self."""
        if self._httpd is not None:
            return self
        _ = self.dataset.profiles  # build once, before threads race for it
        _ = self.dataset.messy_plan
        handler = type("Handler", (_Handler,), {"sim": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="copilot-simulator",
            daemon=True,
        )
        self._thread.start()
        log.info("simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, path_regex: str = ".*", status: int | None = None, method: str = "GET") -> int:
        """Number of recorded requests whose path matches ``path_regex`` (and ``status``)."""
        rx = re.compile(path_regex)
        return sum(
            1
            for m, p, s in list(self.requests)
            if m == method and rx.search(p) and (status is None or s == status)
        )

    # --- per-scope answers --------------------------------------------------------------------
    def set_forbidden(self, slug: str, forbidden: bool = True) -> None:
        """Make every metrics call of ``slug`` answer 403 (True) or answer normally again (False)."""
        with self._lock:
            (self._forbidden.add if forbidden else self._forbidden.discard)(slug)

    def set_metrics_disabled(self, slug: str, disabled: bool = True) -> None:
        """Make every metrics call of ``slug`` answer 422 (True) or answer normally again (False)."""
        with self._lock:
            (self._metrics_disabled.add if disabled else self._metrics_disabled.discard)(slug)

    def set_report_available(self, slug: str, report: str, available: bool = True) -> None:
        """Offer ``report`` for ``slug`` (True: it starts answering 200/204) or withdraw it (404)."""
        with self._lock:
            if available:
                self._unavailable.discard((slug, report))
            else:
                self._unavailable.add((slug, report))

    def policy_answer(self, slug: str) -> tuple[int, str] | None:
        """(status, message) every metrics call of ``slug`` answers now, or None when allowed."""
        with self._lock:
            if slug in self._forbidden:
                return 403, FORBIDDEN_MESSAGE
            if slug in self._metrics_disabled:
                return 422, METRICS_DISABLED_MESSAGE
        return None

    def report_available(self, slug: str, report: str) -> bool:
        """False while ``report`` answers 404 for ``slug`` (``unavailable_reports``)."""
        with self._lock:
            return (slug, report) not in self._unavailable

    def served_versions(self, scope: Scope, report: str, day: date | str) -> list[int]:
        """Versions of a restated day's report handed out so far, in order (``[1, 2, 2]``: the
        first report-links call got version 1, two later ones the final version 2). Empty for a
        report that is not restated or was not asked for."""
        key = (scope, report, day if isinstance(day, str) else day.isoformat())
        with self._lock:
            return list(self._served.get(key, ()))

    def _take_version(self, scope: Scope, report: str, day_key: str) -> int | None:
        """The version a report-links call serves: None (one version), 1 the first time, then 2."""
        day = None if day_key == "latest" else date.fromisoformat(day_key)
        if not self.dataset.is_restated(scope, report, day):
            return None
        with self._lock:
            served = self._served.setdefault((scope, report, day_key), [])
            version = FIRST_VERSION if not served else FINAL_VERSION
            served.append(version)
        return version

    # --- rate limit --------------------------------------------------------------------------
    def _rate_headers(self, remaining_zero: bool = False, reset_in: float | None = None) -> dict[str, str]:
        with self._lock:
            self._used += 1
            used = self._used
        if time.time() >= self._reset_at:
            self._reset_at = int(time.time()) + 3600
        reset = int(time.time() + reset_in) if reset_in is not None else self._reset_at
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": "0" if remaining_zero else str(max(0, RATE_LIMIT - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }

    # --- signed links ------------------------------------------------------------------------
    def _sign(self, opaque: str, expires: int) -> str:
        return hmac.new(self._secret, f"{opaque}.{expires}".encode(), hashlib.sha256).hexdigest()

    def make_link(
        self,
        scope: Scope,
        report: str,
        day_key: str,
        part: int,
        ttl: int | None = None,
        version: int | None = None,
    ) -> str:
        """A signed download URL for part ``part`` (1-based) of a report (``version`` of a
        restated day, None for the only or final version)."""
        fields: list[Any] = [scope.type, scope.name, report, day_key, part]
        if version is not None and version != FINAL_VERSION:
            fields.append(version)
        payload = json.dumps(fields, separators=(",", ":"))
        opaque = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        expires = int(time.time()) + (self.config.link_ttl_seconds if ttl is None else ttl)
        return f"{self.url}/downloads/{opaque}?expires={expires}&signature={self._sign(opaque, expires)}"

    @staticmethod
    def _decode_opaque(opaque: str) -> tuple[Scope, str, str, int, int | None]:
        raw = base64.urlsafe_b64decode(opaque + "=" * (-len(opaque) % 4))
        stype, name, report, day_key, part, *rest = json.loads(raw)
        return Scope(stype, name), report, day_key, int(part), (int(rest[0]) if rest else None)

    def report_parts(
        self, scope: Scope, report: str, day_key: str, version: int | None = None
    ) -> list[list[str]] | None:
        """Clean NDJSON lines of a report split into parts (None: no report for that day).

        ``version`` 1 is a restated day's first version; None the only or final one.
        """
        version = None if version == FINAL_VERSION else version  # the final version is the plain one
        key = (scope, report, day_key, version)
        with self._lock:
            if key in self._parts_cache:
                self._parts_cache.move_to_end(key)
                return self._parts_cache[key]
        day = None if day_key == "latest" else date.fromisoformat(day_key)
        lines = self.dataset.report_lines(scope, report, day, version)
        parts = None if lines is None else split_parts(lines, self.config.parts)
        with self._lock:
            self._parts_cache[key] = parts
            while len(self._parts_cache) > 64:
                self._parts_cache.popitem(last=False)
        return parts

    def seat_listing(self, scope: Scope) -> tuple[list[dict[str, Any]], int]:
        """The seats listing of ``scope`` and its ``total_seats``, computed once per server."""
        with self._lock:
            cached = self._seats_cache.get(scope)
        if cached is None:
            cached = (self.dataset.seats(scope), self.dataset.total_seats(scope))
            with self._lock:
                self._seats_cache[scope] = cached
        return cached


def _error_body(message: str, status: int) -> dict[str, str]:
    return {"message": message, "documentation_url": DOCS_URL, "status": str(status)}


def _parse_legacy_ts(value: str) -> date:
    value = value.strip()
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    return date.fromisoformat(value)


class _Handler(BaseHTTPRequestHandler):
    """Routes one request; ``sim`` is set on a per-server subclass."""

    sim: SimulatorServer
    protocol_version = "HTTP/1.1"
    # Send small responses at once: with keep-alive, Nagle plus delayed ACKs adds ~40 ms per call.
    disable_nagle_algorithm = True
    server_version = "GitHubCopilotSimulator/1.0"
    sys_version = ""

    # --- logging without query strings ------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), strip_query(format % args))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(self.path).path if hasattr(self, "path") else "-"
        log.debug("%s %s %s", getattr(self, "command", "-"), path, code)

    # --- responses --------------------------------------------------------------------------
    def _record(self, status: int) -> None:
        self.sim.requests.append((self.command, urlsplit(self.path).path, status))

    def _send(
        self,
        status: int,
        body: bytes | None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        self._record(status)
        self.send_response(status)
        self.send_header("x-github-request-id", secrets.token_hex(8).upper())
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status == 204:
            self.end_headers()
            return
        body = body or b""
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, _error_body(message, status), headers)

    def _reset_midway(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Send headers and half the body, then reset the TCP connection."""
        self._record(status)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
        raise _Reset

    # --- dispatch ---------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        try:
            self._dispatch()
        except _Reset:
            pass
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug in the simulator must still answer something
            log.exception("simulator error on %s", urlsplit(self.path).path)
            try:
                self._error(500, "simulator internal error")
            except OSError:
                self.close_connection = True

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        m = _DOWNLOAD_RE.match(path)
        if m:
            self._download(m.group(1), query)
            return
        route = None
        for rx, name in ((_REPORT_RE, "report"), (_BILLING_RE, "billing"), (_LEGACY_RE, "legacy")):
            mm = rx.match(path)
            if mm:
                route = (name, mm)
                break
        rate = self.sim._rate_headers()
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1].strip() if " " in auth else ""
        if not auth:
            self._error(401, "Requires authentication", rate)
            return
        if not hmac.compare_digest(token.encode(), self.sim.config.token.encode()) or auth.split(" ", 1)[
            0
        ].lower() not in (
            "bearer",
            "token",
        ):
            self._error(401, "Bad credentials", rate)
            return
        version = self.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in SUPPORTED_API_VERSIONS:
            self._error(
                400,
                f"Unsupported 'X-GitHub-Api-Version' header: {version[:40]!r}. "
                f"Supported versions are: {', '.join(SUPPORTED_API_VERSIONS)}",
                rate,
            )
            return
        if route is None:
            self._error(404, "Not Found", rate)
            return
        name, mm = route
        scope_type = ORGANIZATION if mm.group(1) == "orgs" else ENTERPRISE
        try:
            scope = Scope(scope_type, mm.group(2))
        except ValueError:
            self._error(404, "Not Found", rate)
            return
        if not self.sim.dataset.has_scope(scope):
            self._error(404, "Not Found", rate)
            return
        if name == "report":
            self._report(scope, mm.group(3), bool(mm.group(4)), query, rate)
        elif name == "billing":
            if mm.group(3):
                self._seats(scope, path, query, rate)
            elif self._transport_fault(path, rate):
                return
            else:
                self._json(200, self.sim.dataset.billing(scope), rate)
        else:
            self._legacy(scope, path, query, rate)

    # --- faults -----------------------------------------------------------------------------
    def _transport_fault(self, target: str, rate: dict[str, str], where: str = "api") -> bool:
        """Apply a planned transport fault; True when the response was sent (or reset)."""
        fault = self.sim.faults.take_transport(target, where)
        if fault is None:
            return False
        o = fault.opts
        log.info("fault %s on %s", fault.kind, target)
        if fault.kind == "slow":
            time.sleep(float(o.get("seconds", 3)))
            return False
        if fault.kind == "status":
            status = int(o.get("status", 500))
            messages = {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
            self._error(status, messages.get(status, "Server Error"), rate)
        elif fault.kind == "rate_limit_429":
            retry = str(o.get("retry_after", 1))
            self._error(429, "API rate limit exceeded", {**rate, "Retry-After": retry})
        elif fault.kind == "secondary_rate_limit":
            headers = self.sim._rate_headers(remaining_zero=True, reset_in=float(o.get("reset_in", 1)))
            self._error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                headers,
            )
        elif fault.kind == "reset":
            body = json.dumps(_error_body("connection reset by the simulator", 200) | {"padding": "x" * 2048})
            self._reset_midway(200, body.encode(), {**rate, "Content-Type": "application/json"})
        elif fault.kind == "expired_link":
            self._error(403, "Request has expired")
        elif fault.kind == "truncated":
            return False  # handled while sending the download body
        return True

    # --- routes -----------------------------------------------------------------------------
    def _policy_refused(self, scope: Scope, rate: dict[str, str]) -> bool:
        """Answer 403/422 when the scope's metrics are forbidden or disabled; True when answered."""
        refusal = self.sim.policy_answer(scope.name)
        if refusal is None:
            return False
        self._error(refusal[0], refusal[1], rate)
        return True

    def _report(self, scope: Scope, report: str, latest: bool, query: dict, rate: dict[str, str]) -> None:
        prefix = scope.api_prefix + "/copilot/metrics/reports/" + report
        served = (LATEST_REPORTS_SERVED if latest else DAILY_REPORTS_SERVED)[scope.type]
        if self._policy_refused(scope, rate):
            return
        if report not in served or not self.sim.report_available(scope.name, report):
            self._error(404, "Not Found", rate)
            return
        if latest:
            day_key = "latest"
        else:
            raw = query.get("day", [""])[0]
            try:
                day_key = date.fromisoformat(raw).isoformat()
            except ValueError:
                shown = raw[:20]
                self._error(
                    400, f"Invalid request. 'day' must be a date written YYYY-MM-DD, got {shown!r}", rate
                )
                return
        target = f"{prefix}/{day_key}"
        if self._transport_fault(target, rate):
            return
        version = self.sim._take_version(scope, report, day_key)
        parts = self.sim.report_parts(scope, report, day_key, version)
        if parts is None:
            day = None if latest else date.fromisoformat(day_key)
            empty = self.sim.dataset.empty_answer(scope, report, day)
            if empty is None:
                self._send(204, None, rate)
            else:
                self._send(200, empty, rate)
            return
        if version is None:  # keep the call exactly as it always was
            links = [self.sim.make_link(scope, report, day_key, k + 1) for k in range(len(parts))]
        else:
            links = [
                self.sim.make_link(scope, report, day_key, k + 1, version=version) for k in range(len(parts))
            ]
        body: dict[str, Any] = {"download_links": links}
        if latest:
            start, end = self.sim.dataset.window_28_day()
            body.update(report_start_day=start.isoformat(), report_end_day=end.isoformat())
        else:
            body["report_day"] = day_key
        self._json(200, body, rate)

    def _seats(self, scope: Scope, path: str, query: dict, rate: dict[str, str]) -> None:
        try:
            page = max(1, int(query.get("page", ["1"])[0]))
            per_page = min(100, max(1, int(query.get("per_page", ["50"])[0])))
        except ValueError:
            self._error(400, "Invalid request. 'page' and 'per_page' must be integers.", rate)
            return
        if self._transport_fault(f"{path.rstrip('/')}/page-{page}", rate):
            return
        seats, total = self.sim.seat_listing(scope)
        last = max(1, -(-len(seats) // per_page))
        chunk = seats[(page - 1) * per_page : page * per_page]
        headers = dict(rate)
        link = self._link_header(path, page, last, per_page, {})
        if link:
            headers["Link"] = link
        self._json(200, {"total_seats": total, "seats": chunk}, headers)

    def _link_header(self, path: str, page: int, last: int, per_page: int, extra: dict[str, str]) -> str:
        def url(p: int) -> str:
            q = "&".join(f"{k}={v}" for k, v in extra.items())
            return f"{self.sim.url}{path}?{q + '&' if q else ''}page={p}&per_page={per_page}"

        rels = []
        if page > 1:
            rels += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
        if page < last:
            rels += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        return ", ".join(rels)

    def _legacy(self, scope: Scope, path: str, query: dict, rate: dict[str, str]) -> None:
        cfg = self.sim.config
        if self._policy_refused(scope, rate):
            return
        if self._transport_fault(path, rate):
            return
        if cfg.legacy_start is None or cfg.legacy_end is None:
            self._error(404, "Not Found", rate)
            return
        try:
            until = _parse_legacy_ts(query["until"][0]) if "until" in query else cfg.legacy_end
            since = (
                _parse_legacy_ts(query["since"][0])
                if "since" in query
                else max(cfg.legacy_start, until - timedelta(days=99))
            )
            page = max(1, int(query.get("page", ["1"])[0]))
            per_page = min(100, max(1, int(query.get("per_page", ["100"])[0])))
        except ValueError:
            self._error(422, "Invalid request. 'since' and 'until' must be ISO 8601 timestamps.", rate)
            return
        if until < since:
            self._error(422, "Invalid request. 'until' must not precede 'since'.", rate)
            return
        if since < cfg.legacy_start or until > cfg.legacy_end:
            self._error(404, "Not Found", rate)
            return
        days = self.sim.dataset.legacy_days(scope, since, until)
        last = max(1, -(-len(days) // per_page))
        headers = dict(rate)
        extra = {"since": since.isoformat() + "T00:00:00Z", "until": until.isoformat() + "T00:00:00Z"}
        link = self._link_header(path, page, last, per_page, extra)
        if link:
            headers["Link"] = link
        self._json(200, days[(page - 1) * per_page : page * per_page], headers)

    def _download(self, opaque: str, query: dict) -> None:
        if "Authorization" in self.headers:
            self._error(403, "Signed download URLs must be fetched without an Authorization header")
            return
        try:
            expires = int(query.get("expires", [""])[0])
            signature = query.get("signature", [""])[0]
        except ValueError:
            self._error(403, "Request signature is missing or malformed")
            return
        if not hmac.compare_digest(signature.encode(), self.sim._sign(opaque, expires).encode()):
            self._error(403, "Request signature does not match")
            return
        if time.time() > expires:
            self._error(403, "Request has expired")
            return
        scope, report, day_key, part, version = self.sim._decode_opaque(opaque)
        target = f"{scope.api_prefix}/copilot/metrics/reports/{report}/{day_key}/part-{part}"
        fault = self.sim.faults.take_transport(target, "download")
        if fault is not None and fault.kind != "truncated":
            self._apply_download_fault(fault)
            if fault.kind != "slow":
                return
        parts = self.sim.report_parts(scope, report, day_key, version)
        if parts is None or part > len(parts):
            self._error(404, "Not Found")
            return
        body = apply_data_faults(self.sim.faults.take_data(target), parts, part - 1)
        if fault is not None and fault.kind == "truncated":
            keep = int(len(body) * float(fault.opts.get("fraction", 0.5)))
            self._record(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:keep])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(200, body, content_type="application/x-ndjson")

    def _apply_download_fault(self, fault: Any) -> None:
        o = fault.opts
        log.info("fault %s on a download", fault.kind)
        if fault.kind == "slow":
            time.sleep(float(o.get("seconds", 3)))
        elif fault.kind == "status":
            self._error(int(o.get("status", 500)), "Server Error")
        elif fault.kind == "expired_link":
            self._error(403, "Request has expired")
        elif fault.kind == "rate_limit_429":
            self._error(429, "Too Many Requests", {"Retry-After": str(o.get("retry_after", 1))})
        elif fault.kind == "secondary_rate_limit":
            self._error(
                403,
                "You have exceeded a secondary rate limit.",
                self.sim._rate_headers(remaining_zero=True, reset_in=float(o.get("reset_in", 1))),
            )
        elif fault.kind == "reset":
            self._reset_midway(
                200, b'{"day":"' + b"x" * 4096 + b'"}\n', {"Content-Type": "application/x-ndjson"}
            )
