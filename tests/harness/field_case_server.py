"""A GitHub Copilot API on 127.0.0.1 that serves one field-case folder as its answers.

A field case (``tests/data/field-cases/<case>/``, layout in its README) is a complete GitHub
answer set for a few days::

    <case>/scopes.json                           {"orgs": [...], "enterprises": [...]}
    <case>/<scope>/<report>/<YYYY-MM-DD>.ndjson  that day's report file (one download part)
    <case>/<scope>/<report>/<YYYY-MM-DD>.raw     the exact body of the report-links answer (HTTP 200)
    <case>/<scope>/seats.json                    the seats listing ({"total_seats": N, "seats": [...]})

:class:`FieldCaseServer` is a real HTTP/1.1 server (stdlib ``ThreadingHTTPServer`` in a daemon
thread) that answers the way GitHub does (reference §3-§5):

- every API route checks ``Authorization: Bearer <token>`` (401 ``Bad credentials`` otherwise);
- ``GET /{orgs|enterprises}/{slug}/copilot/metrics/reports/{report}?day=YYYY-MM-DD``: the ``.raw``
  file's bytes as they are stored (HTTP 200), else for an ``.ndjson`` file HTTP 200
  ``{"download_links": [<signed link>], "report_day": day}``, else 204. A scope that is not in
  ``scopes.json``, or a report GitHub does not have for that kind of scope, answers 404 with
  GitHub's JSON error body;
- ``.../reports/{report}/latest`` (28-day reports): 204, no case has one;
- ``GET /downloads/<opaque>?expires=..&signature=..``: the ``.ndjson`` bytes, for links signed with
  this server's secret (HMAC-SHA256) that have not expired and are fetched without an
  ``Authorization`` header (403 otherwise, as the download host does);
- ``GET /orgs/{org}/copilot/billing``: the seat breakdown, ``total`` taken from ``seats.json``;
- ``GET {scope}/copilot/billing/seats?per_page=&page=``: pages of ``seats.json`` with GitHub's
  ``Link`` header (``{"total_seats": 0, "seats": []}`` for a scope without that file).

``serve(folder)`` switches to another folder while running (case02 holds two fetches of the same
day). ``requests`` records every request as ``(method, target, status)`` where ``target`` is the
path with its query string (so a test can count how often a day was asked for), except for
downloads, whose signed query is left out.

Run ``python tests/field_case_server.py <case-folder>`` to serve a case by hand (prints the URL
and token).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOCS_URL = "https://docs.github.com/rest"
DEFAULT_TOKEN = "field-case-token"
SEATS_DEFAULT_PER_PAGE = 50
SEATS_MAX_PER_PAGE = 100
RATE_LIMIT = 5000

# The 1-day and 28-day reports GitHub has per kind of scope (reference §3.1).
DAILY_REPORTS = {
    "orgs": ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
    "enterprises": ("enterprise-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
}
LATEST_REPORTS = {
    "orgs": ("organization-28-day", "users-28-day"),
    "enterprises": ("enterprise-28-day", "users-28-day"),
}

_REPORT_RE = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/metrics/reports/([^/]+)(/latest)?/?$")
_BILLING_RE = re.compile(r"^/(orgs|enterprises)/([^/]+)/copilot/billing(/seats)?/?$")
_DOWNLOAD_RE = re.compile(r"^/downloads/([A-Za-z0-9_-]+)$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def error_body(message: str, status: int) -> bytes:
    """GitHub's JSON error body: ``{"message", "documentation_url", "status"}``."""
    return json.dumps({"message": message, "documentation_url": DOCS_URL, "status": str(status)}).encode()


def case_days(folder: str | Path) -> list[date]:
    """Every report day present in a case folder (``.ndjson`` and ``.raw`` files), ascending."""
    days = {
        date.fromisoformat(p.stem)
        for p in Path(folder).rglob("*")
        if p.suffix in (".ndjson", ".raw") and _DAY_RE.match(p.stem)
    }
    return sorted(days)


def case_scopes(folder: str | Path) -> dict[str, list[str]]:
    """``scopes.json`` of a case folder: ``{"orgs": [...], "enterprises": [...]}``."""
    body = json.loads((Path(folder) / "scopes.json").read_text(encoding="utf-8"))
    return {"orgs": list(body.get("orgs") or []), "enterprises": list(body.get("enterprises") or [])}


class FieldCaseServer:
    """Serve one field-case folder as GitHub's Copilot REST API on 127.0.0.1.

    Args:
        folder: the case folder (holding ``scopes.json``).
        token: the only token the API routes accept.
        host: interface to bind (keep 127.0.0.1).
        port: TCP port; 0 picks a free one (see :attr:`url`).
        link_ttl_seconds: how long a signed download link stays valid.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. :attr:`requests` keeps
    every request after :meth:`stop`.
    """

    def __init__(
        self,
        folder: str | Path,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        link_ttl_seconds: int = 300,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.link_ttl_seconds = link_ttl_seconds
        self.requests: list[tuple[str, str, int]] = []
        self._secret = secrets.token_bytes(32)
        self._links: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.folder = Path(folder)
        self.scopes = case_scopes(self.folder)

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (valid while running)."""
        if self._httpd is None:
            raise RuntimeError("the field-case server is not running: call start() first")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> FieldCaseServer:
        """Bind and serve in a background thread; returns self."""
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="field-case-server",
            daemon=True,
        )
        self._thread.start()
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

    def __enter__(self) -> FieldCaseServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve(self, folder: str | Path) -> None:
        """Answer from another case folder from now on (links already handed out stay valid)."""
        folder = Path(folder)
        scopes = case_scopes(folder)
        with self._lock:
            self.folder, self.scopes = folder, scopes

    # --- inspection ---------------------------------------------------------------------------
    def count(self, target_regex: str = ".*", status: int | None = None, method: str = "GET") -> int:
        """Recorded requests whose target (path and query) matches ``target_regex`` (and ``status``)."""
        rx = re.compile(target_regex)
        return sum(
            1
            for m, target, s in list(self.requests)
            if m == method and rx.search(target) and (status is None or s == status)
        )

    # --- state used by the handler ------------------------------------------------------------
    def snapshot(self) -> tuple[Path, dict[str, list[str]]]:
        """The folder and scopes being served (read together)."""
        with self._lock:
            return self.folder, self.scopes

    def sign(self, opaque: str, expires: int) -> str:
        """HMAC-SHA256 signature of a download link."""
        return hmac.new(self._secret, f"{opaque}.{expires}".encode(), hashlib.sha256).hexdigest()

    def make_link(self, path: Path, ttl: int | None = None) -> str:
        """A signed download URL for a report file (an opaque id; the path never shows)."""
        opaque = secrets.token_urlsafe(16)
        with self._lock:
            self._links[opaque] = path
        expires = int(time.time()) + (self.link_ttl_seconds if ttl is None else ttl)
        return f"{self.url}/downloads/{opaque}?expires={expires}&signature={self.sign(opaque, expires)}"

    def link_target(self, opaque: str) -> Path | None:
        with self._lock:
            return self._links.get(opaque)


class _Handler(BaseHTTPRequestHandler):
    """Routes one request; ``server_state`` is set on a per-server subclass."""

    server_state: FieldCaseServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FieldCaseGitHub/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests read :attr:`FieldCaseServer.requests` instead of a log."""

    # --- responses ----------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes | None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
        record_as: str | None = None,
    ) -> None:
        self.server_state.requests.append((self.command, record_as or self.path, status))
        self.send_response(status)
        self.send_header("x-github-request-id", secrets.token_hex(8).upper())
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status == 204:
            self.end_headers()
            return
        body = body or b""
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None, **kw: Any) -> None:
        self._send(status, error_body(message, status), headers, **kw)

    @staticmethod
    def _rate_headers() -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(RATE_LIMIT - 1),
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
        }

    # --- dispatch -----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        try:
            self._dispatch()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug here must still answer something a client can report
            try:
                self._error(500, f"field-case server error: {type(exc).__name__}: {exc}")
            except OSError:
                self.close_connection = True

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        m = _DOWNLOAD_RE.match(path)
        if m:
            self._download(m.group(1), query, path)
            return
        rate = self._rate_headers()
        auth = self.headers.get("Authorization", "")
        if not auth:
            self._error(401, "Requires authentication", rate)
            return
        kind, _, token = auth.partition(" ")
        if kind.lower() not in ("bearer", "token") or not hmac.compare_digest(
            token.strip().encode(), self.server_state.token.encode()
        ):
            self._error(401, "Bad credentials", rate)
            return
        folder, scopes = self.server_state.snapshot()
        for rx, route in ((_REPORT_RE, self._report), (_BILLING_RE, self._billing)):
            mm = rx.match(path)
            if mm:
                kind_of_scope, slug = mm.group(1), mm.group(2)
                if slug not in scopes[kind_of_scope]:
                    self._error(404, "Not Found", rate)
                    return
                route(folder, kind_of_scope, slug, mm, query, rate)
                return
        self._error(404, "Not Found", rate)

    # --- routes -------------------------------------------------------------------------------
    def _report(
        self, folder: Path, kind: str, slug: str, mm: re.Match, query: dict, rate: dict[str, str]
    ) -> None:
        report, latest = mm.group(3), bool(mm.group(4))
        if report not in (LATEST_REPORTS if latest else DAILY_REPORTS)[kind]:
            self._error(404, "Not Found", rate)
            return
        if latest:
            self._send(204, None, rate)  # no case holds a 28-day report
            return
        day = query.get("day", [""])[0]
        try:
            day = date.fromisoformat(day).isoformat() if _DAY_RE.match(day) else ""
        except ValueError:
            day = ""
        if not day:
            self._error(400, "Invalid request. 'day' must be a date written YYYY-MM-DD.", rate)
            return
        base = folder / slug / report / day
        raw, ndjson = base.with_suffix(".raw"), base.with_suffix(".ndjson")
        if raw.is_file():
            self._send(200, raw.read_bytes(), rate)
        elif ndjson.is_file():
            self._json(
                200, {"download_links": [self.server_state.make_link(ndjson)], "report_day": day}, rate
            )
        else:
            self._send(204, None, rate)

    def _billing(
        self, folder: Path, kind: str, slug: str, mm: re.Match, query: dict, rate: dict[str, str]
    ) -> None:
        listing = _seats_listing(folder / slug / "seats.json")
        if not mm.group(3):
            if kind != "orgs":  # GitHub has no enterprise billing summary
                self._error(404, "Not Found", rate)
                return
            seats = listing["seats"]
            pending = sum(1 for s in seats if isinstance(s, dict) and s.get("pending_cancellation_date"))
            self._json(
                200,
                {
                    "seat_breakdown": {
                        "total": listing["total_seats"],
                        "added_this_cycle": 0,
                        "pending_cancellation": pending,
                        "pending_invitation": 0,
                        "active_this_cycle": 0,
                        "inactive_this_cycle": 0,
                    },
                    "seat_management_setting": "assign_selected",
                    "ide_chat": "enabled",
                    "platform_chat": "enabled",
                    "cli": "enabled",
                    "public_code_suggestions": "block",
                    "plan_type": "business",
                },
                rate,
            )
            return
        try:
            page = max(1, int(query.get("page", ["1"])[0]))
            per_page = min(
                SEATS_MAX_PER_PAGE, max(1, int(query.get("per_page", [str(SEATS_DEFAULT_PER_PAGE)])[0]))
            )
        except ValueError:
            self._error(400, "Invalid request. 'page' and 'per_page' must be integers.", rate)
            return
        seats = listing["seats"]
        last = max(1, -(-len(seats) // per_page))
        headers = dict(rate)
        link = self._link_header(urlsplit(self.path).path, page, last, per_page)
        if link:
            headers["Link"] = link
        chunk = seats[(page - 1) * per_page : page * per_page]
        self._json(200, {"total_seats": listing["total_seats"], "seats": chunk}, headers)

    def _link_header(self, path: str, page: int, last: int, per_page: int) -> str:
        def url(p: int) -> str:
            return f"{self.server_state.url}{path}?per_page={per_page}&page={p}"

        rels = []
        if page > 1:
            rels += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
        if page < last:
            rels += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        return ", ".join(rels)

    def _download(self, opaque: str, query: dict, path: str) -> None:
        if "Authorization" in self.headers:
            self._error(
                403, "Signed download URLs must be fetched without an Authorization header", record_as=path
            )
            return
        try:
            expires = int(query.get("expires", [""])[0])
        except ValueError:
            self._error(403, "Request signature is missing or malformed", record_as=path)
            return
        signature = query.get("signature", [""])[0]
        if not hmac.compare_digest(signature.encode(), self.server_state.sign(opaque, expires).encode()):
            self._error(403, "Request signature does not match", record_as=path)
            return
        if time.time() > expires:
            self._error(403, "Request has expired", record_as=path)
            return
        target = self.server_state.link_target(opaque)
        if target is None or not target.is_file():
            self._error(404, "Not Found", record_as=path)
            return
        self._send(200, target.read_bytes(), content_type="application/x-ndjson", record_as=path)


def _seats_listing(path: Path) -> dict[str, Any]:
    """``seats.json`` as ``{"total_seats": int, "seats": list}``; no file means no seats."""
    if not path.is_file():
        return {"total_seats": 0, "seats": []}
    body = json.loads(path.read_text(encoding="utf-8"))
    seats = body.get("seats") or []
    total = body.get("total_seats")
    return {"total_seats": total if isinstance(total, int) else len(seats), "seats": list(seats)}


if __name__ == "__main__":  # serve a case by hand: python tests/field_case_server.py <case-folder>
    if len(sys.argv) != 2:
        print("usage: python tests/field_case_server.py <case-folder>", file=sys.stderr)
        sys.exit(2)
    with FieldCaseServer(sys.argv[1]) as server:
        print(f"serving {sys.argv[1]} at {server.url} (token {server.token}); Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
