"""The GitHub REST client for Copilot usage data: plain ``requests``, no Airflow.

:class:`CopilotClient` covers what the pipeline needs (reference/github-copilot-api.md):

- ``check_availability(scope)``: probe billing then the 28-day report, and say in words why a
  scope is unavailable (401/403/404/422);
- ``report_links(scope, report, day)``: the signed download links of one report (``None`` = 204);
- ``download(url, dest)``: stream one signed link to a file, without the GitHub token;
- ``billing(scope)``, ``seats(scope)``: the seats API (Link-header paging);
- ``legacy_metrics(scope, since, until)``: the closed legacy API, whose 404 means "retired".

Every call retries transient failures with tenacity (5xx, timeouts, connection resets, cut-off
bodies, 429 and rate-limited 403s), honouring ``Retry-After`` and ``x-ratelimit-reset`` up to
``max_wait`` seconds, else exponential backoff with jitter. Client errors (400/401/404/422 and a
plain 403) are never retried. Errors are :class:`CopilotApiError` subclasses naming the scope,
report, day and HTTP status; their text and every log line pass through :mod:`redact`, so neither
the token nor a signed URL's query string ever shows.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import tenacity
from requests.adapters import HTTPAdapter

from copilot_warehouse import __version__, config, redact
from copilot_warehouse.config import ConfigError, Scope

log = redact.get_logger(__name__)
redact.protect_loggers()  # urllib3 logs full URLs (signed query strings) at DEBUG level

DEFAULT_BASE_URL = "https://api.github.com"
DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_WAIT = 120.0  # longest single wait between attempts, seconds
SECONDARY_RATE_LIMIT_WAIT = 60.0  # GitHub: "wait at least one minute" when it gives no hint
USER_AGENT = f"copilot-usage-warehouse/{__version__} (+python-requests)"
SEATS_PER_PAGE = 100
LEGACY_PER_PAGE = 100
DOWNLOAD_CHUNK = 1 << 20

REQUIRED_SCOPES = {
    config.ORGANIZATION: (
        "an organization owner, or a member with the 'View Organization Copilot Metrics' role, using a "
        "classic token with read:org (manage_billing:copilot for seats), or a fine-grained token or "
        "GitHub App with the 'Organization Copilot metrics' (read) permission"
    ),
    config.ENTERPRISE: (
        "an enterprise owner, billing manager or a user with 'View Enterprise Copilot Metrics', using a "
        "classic token with manage_billing:copilot or read:enterprise, or a GitHub App token with "
        "'Enterprise Copilot metrics' (read); fine-grained personal access tokens do not work here"
    ),
}

_SECONDARY_RATE_LIMIT_RE = re.compile(r"secondary rate limit|abuse detection|rate limit exceeded", re.I)


# --- errors -----------------------------------------------------------------------------------


class CopilotApiError(Exception):
    """A GitHub API call failed; the message names scope, report, day and HTTP status.

    Attributes:
        status: HTTP status, or None when no response arrived (timeout, reset).
        scope: the Scope the call was for, if any.
        report: report name (or ``billing``, ``seats``, ``legacy-metrics``, ``download``).
        day: the report day (or a ``since..until`` text), if any.
        request_id: GitHub's ``x-github-request-id`` of the failing response, if any.
        retryable: whether another attempt could succeed.
    """

    retryable = False

    def __init__(
        self,
        status: int | None,
        scope: Scope | None,
        report: str | None,
        day: date | str | None,
        message: str,
        *,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.scope = scope
        self.report = report
        self.day = day
        self.request_id = request_id
        self.detail = redact.redact(message)
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = " ".join(
            part
            for part in (
                self.scope.label if self.scope else None,
                self.report,
                str(self.day) if self.day else None,
            )
            if part
        )
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        text = f"{where}: {status}: {self.detail}" if where else f"{status}: {self.detail}"
        if self.request_id:
            text += f" (x-github-request-id {self.request_id})"
        return redact.redact(text)

    @property
    def brief(self) -> str:
        """``HTTP <status>: <detail>`` without the scope/report/day prefix (for retry logs)."""
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        return f"{status}: {self.detail}"

    def __reduce__(self):  # keep pickling (Airflow, multiprocessing) working with our signature
        return (
            _rebuild_error,
            (type(self), self.status, self.scope, self.report, self.day, self.detail, self.request_id),
        )


def _rebuild_error(cls, status, scope, report, day, detail, request_id):
    return cls(status, scope, report, day, detail, request_id=request_id)


class RetryableApiError(CopilotApiError):
    """A transient failure (5xx, timeout, reset, short body, rate limit): worth another attempt."""

    retryable = True

    def __init__(self, *args: Any, wait: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wait = wait  # seconds the server asked us to wait, if it said


class RateLimitedError(RetryableApiError):
    """429, or 403 with ``x-ratelimit-remaining: 0`` or a secondary-rate-limit message."""


class ShortBodyError(RetryableApiError):
    """A download ended before ``Content-Length`` bytes arrived."""


class RetriesExhaustedError(CopilotApiError):
    """Every attempt failed with a transient error; the message gives the last one."""


class UnauthorizedError(CopilotApiError):
    """401: the token is missing, wrong, expired or revoked."""


class ForbiddenError(CopilotApiError):
    """403 (not rate limiting): the token lacks scope/role, or the metrics policy is off."""


class NotFoundError(CopilotApiError):
    """404: the org/enterprise is unknown to this token or has no Copilot."""


class MetricsDisabledError(CopilotApiError):
    """422: the Copilot metrics API setting is disabled (or, for billing, a payment problem)."""


class LinkExpiredError(CopilotApiError):
    """403/410 from the download host: the signed link expired; ask for fresh report links."""


class LegacyApiRetiredError(NotFoundError):
    """404 from the legacy ``/copilot/metrics`` API, which GitHub closed on 2026-04-02."""


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """Whether a scope's usage-metrics reports can be fetched with this token, and why not.

    Attributes:
        available: True when the 28-day report answered 200 or 204.
        status: HTTP status of the deciding call (None if none was made).
        reason: a sentence for people: what was found and, if unavailable, how to fix it.
        seats: ``seat_breakdown.total`` from billing, when billing answered.
        report_end_day: last day of the latest 28-day report, when there is one.
    """

    available: bool
    status: int | None
    reason: str
    seats: int | None = None
    report_end_day: date | None = None


@dataclass(frozen=True)
class ReportLinks:
    """The answer of a report endpoint. ``links`` are signed URLs: never log or store them."""

    report: str
    scope: Scope
    day: date | None
    links: list[str] = field(repr=False)
    report_start_day: date | None = None
    report_end_day: date | None = None

    def __repr__(self) -> str:
        return (
            f"ReportLinks(report={self.report!r}, scope={self.scope.label!r}, day={self.day}, "
            f"report_start_day={self.report_start_day}, report_end_day={self.report_end_day}, "
            f"links=<{len(self.links)} signed URLs>)"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class NoReport:
    """GitHub has no report for that day (yet): HTTP 204, or a 200 whose body is empty.

    Attributes:
        status: the HTTP status received (204, or 200 for an empty answer).
        detail: what was received, in words (for receipts and logs).
    """

    status: int
    detail: str


# Why a request was retried (the keys of ``ClientStats["retries_by_cause"]``), with the words logs use.
RETRY_CAUSES = {
    "rate_limit": "429/403 rate limit",
    "server_error": "5xx",
    "connection": "connection error",
    "short_body": "short body",
    "expired_link": "expired link",
}


def retry_cause(exc: BaseException | None) -> str:
    """The :data:`RETRY_CAUSES` key of a retried failure."""
    if isinstance(exc, RateLimitedError):
        return "rate_limit"
    if isinstance(exc, ShortBodyError):
        return "short_body"
    if isinstance(exc, LinkExpiredError):
        return "expired_link"
    status = getattr(exc, "status", None)
    if status is None:
        return "connection"
    return "server_error" if status >= 500 else "rate_limit" if status in (403, 429) else "server_error"


class ClientStats(dict):
    """Call counters (a plain dict, JSON-ready), safe to update from many threads.

    - ``calls``: HTTP attempts; ``by_status``: attempts per status (``"error"``: no response);
    - ``downloads``, ``bytes``: downloads completed and their bytes;
    - per request (one API call or one download, with all its attempts): ``requests``,
      ``retried_requests`` (needed at least one retry), ``retries`` (in all), ``max_retries`` (the
      most of one request), ``waited_seconds`` (``Retry-After``/rate-limit reset/backoff waits) and
      ``retries_by_cause`` (:data:`RETRY_CAUSES` keys; ``expired_link`` counts the fresh links
      asked for by the fetch step when a signed link expired mid-download).
    """

    def __init__(self) -> None:
        super().__init__(
            calls=0,
            retries=0,
            downloads=0,
            bytes=0,
            by_status={},
            requests=0,
            retried_requests=0,
            max_retries=0,
            waited_seconds=0.0,
            retries_by_cause={},
        )
        self._lock = threading.Lock()
        self._local = threading.local()

    def add(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key``."""
        with self._lock:
            self[key] += n

    def status(self, status: int | None) -> None:
        """Count one response with ``status`` (None: no response)."""
        key = "error" if status is None else str(status)
        with self._lock:
            self["by_status"][key] = self["by_status"].get(key, 0) + 1

    def retry(self, cause: str, waited: float = 0.0) -> None:
        """Count one retry of the current request (``cause`` a :data:`RETRY_CAUSES` key)."""
        with self._lock:
            self["retries"] += 1
            self["waited_seconds"] += max(0.0, float(waited))
            causes = self["retries_by_cause"]
            causes[cause] = causes.get(cause, 0) + 1
        self._local.retries = self.thread_retries() + 1

    def request_done(self, retries: int) -> None:
        """Count one finished request (succeeded or given up) that was retried ``retries`` times."""
        with self._lock:
            self["requests"] += 1
            if retries:
                self["retried_requests"] += 1
                self["max_retries"] = max(self["max_retries"], retries)

    def link_refreshed(self) -> None:
        """Count fresh links asked for because a signed link expired (a retry of one download)."""
        with self._lock:
            self["retries"] += 1
            self["retried_requests"] += 1
            self["max_retries"] = max(self["max_retries"], 1)
            causes = self["retries_by_cause"]
            causes["expired_link"] = causes.get("expired_link", 0) + 1

    def thread_retries(self) -> int:
        """Retries made by the calling thread so far (per-receipt counts under concurrency)."""
        return getattr(self._local, "retries", 0)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy, safe to put in XCom or a summary."""
        with self._lock:
            return {
                **self,
                "by_status": dict(self["by_status"]),
                "retries_by_cause": dict(self["retries_by_cause"]),
                "waited_seconds": round(self["waited_seconds"], 3),
            }

    def __reduce__(self):  # pickle/deepcopy give a plain dict (the lock cannot be copied)
        return (dict, (self.snapshot(),))


REQUEST_KEYS = (
    "requests",
    "retried_requests",
    "retries",
    "max_retries",
    "waited_seconds",
    "retries_by_cause",
)


def request_accounting(stats: dict[str, Any], before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The per-request figures of a stats snapshot (minus ``before``, for one part of a run)."""
    out: dict[str, Any] = {}
    for key in REQUEST_KEYS:
        value = stats.get(key, {} if key == "retries_by_cause" else 0)
        if key == "retries_by_cause":
            prior = (before or {}).get(key, {})
            value = {k: v - prior.get(k, 0) for k, v in value.items() if v - prior.get(k, 0)}
        elif before is not None and key != "max_retries":
            value = value - before.get(key, 0)
        out[key] = round(value, 3) if isinstance(value, float) else value
    return out


def describe_requests(accounting: dict[str, Any]) -> str:
    """``N requests, R retried (X retries, W s waited: 2 429/403 rate limit, 1 5xx)`` for log lines."""
    a = accounting
    text = (
        f"{a.get('requests', 0)} requests, {a.get('retried_requests', 0)} retried "
        f"({a.get('retries', 0)} retries, {float(a.get('waited_seconds', 0)):.1f} s waited"
    )
    causes = a.get("retries_by_cause") or {}
    if causes:
        text += ": " + ", ".join(f"{n} {RETRY_CAUSES.get(k, k)}" for k, n in sorted(causes.items()))
    if a.get("max_retries"):
        text += f"; at most {a['max_retries']} for one request"
    return text + ")"


# --- base URLs --------------------------------------------------------------------------------

_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def build_base_url(host: str | None, schema: str | None = None, port: int | None = None) -> str:
    """Normalise an API base URL from a Connection's host (and optional schema and port).

    - empty -> ``https://api.github.com``;
    - ``github.com`` -> ``https://api.github.com``; ``SUB.ghe.com`` -> ``https://api.SUB.ghe.com``
      (GHE.com data residency);
    - no scheme -> ``schema`` if it is ``http``/``https``, else ``http`` for a loopback host (the
      simulator) and ``https`` for anything else;
    - a trailing ``/`` is dropped; a path (``/api/v3``) is kept.

    Raises:
        ConfigError: the URL has a query string or fragment, or an unsupported scheme.
    """
    raw = (host or "").strip()
    if not raw:
        return DEFAULT_BASE_URL
    if "://" not in raw:
        scheme = (schema or "").strip().lower()
        if scheme not in ("http", "https"):
            hostname = raw.split("/", 1)[0].rsplit(":", 1)[0] if not raw.startswith("[") else raw
            scheme = "http" if hostname in _LOOPBACK or raw.startswith("[::1]") else "https"
        raw = f"{scheme}://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"API base URL must start with http:// or https://, got {parts.scheme}://")
    if parts.query or parts.fragment:
        raise ConfigError("API base URL must not carry a query string or fragment")
    if not parts.hostname:
        raise ConfigError(f"API base URL {redact.redact(raw)!r} has no host name")
    netloc = parts.hostname
    if netloc == "github.com":
        netloc = "api.github.com"
    elif netloc.endswith(".ghe.com") and not netloc.startswith("api."):
        netloc = f"api.{netloc}"
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    effective_port = parts.port or port
    if effective_port:
        netloc = f"{netloc}:{effective_port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def ghe_base_url(subdomain: str) -> str:
    """API base URL for GHE.com data residency: ``https://api.SUBDOMAIN.ghe.com``."""
    return f"https://api.{config.validate_slug(subdomain, 'GHE.com subdomain')}.ghe.com"


# --- helpers ----------------------------------------------------------------------------------


def _day_text(value: date | datetime | str, name: str) -> str:
    return config.parse_day(value, name).isoformat()


def _github_message(resp: requests.Response) -> str:
    """GitHub's ``message`` field from an error body, else a short text snippet."""
    try:
        body = resp.json()
    except ValueError:
        text = (resp.text or "").strip()
        return text[:200]
    if isinstance(body, dict):
        msg = str(body.get("message") or "")
        errors = body.get("errors")
        if errors:
            msg = f"{msg} {errors}".strip()
        return msg[:500]
    return str(body)[:200]


def _is_rate_limited(resp: requests.Response) -> bool:
    if resp.status_code == 429:
        return True
    if resp.status_code != 403:
        return False
    if resp.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in resp.headers:
        return True
    return bool(_SECONDARY_RATE_LIMIT_RE.search(_github_message(resp)))


_TRANSIENT_EXCEPTIONS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


def _retry_after(resp: requests.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or HTTP-date form), or None."""
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _wire_bytes(resp: requests.Response, fallback: int) -> int:
    """Bytes read from the socket so far (before any decompression)."""
    try:
        return int(resp.raw.tell())
    except Exception:
        return fallback


def _empty_answer(resp: requests.Response) -> str | None:
    """How a 200 report answer says "nothing" (an empty body, ``""``, ``null``, no links), else None."""
    text = resp.content.strip()
    if not text:
        return "an empty body"
    if text in (b'""', b"null", b"{}", b"[]"):
        return f"a body of {text.decode()}"
    if len(text) < 200:  # only tiny bodies can be an empty link list
        try:
            body = resp.json()
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("download_links") in ([], None) and "download_links" in body:
            return "an empty download_links list"
    return None


def _request_id(resp: requests.Response | None) -> str | None:
    return resp.headers.get("x-github-request-id") if resp is not None else None


# --- the client -------------------------------------------------------------------------------


class CopilotClient:
    """GitHub REST client for Copilot usage metrics, seats and the legacy metrics API.

    Args:
        base_url: API base URL (``https://api.github.com``, ``https://api.SUB.ghe.com`` or the
            simulator's ``http://127.0.0.1:PORT``); normalised by :func:`build_base_url`.
        token: the GitHub token; registered with :mod:`redact` so it never shows.
        api_version: ``X-GitHub-Api-Version`` header value.
        timeout: requests timeout, seconds or ``(connect, read)``.
        max_attempts: attempts per call, including the first.
        session: a ``requests.Session`` for API calls (downloads always use their own session
            without credentials).
        sleep: the function used to wait between attempts (tests inject a recorder).
        max_wait: cap, in seconds, of any single wait (``Retry-After``, rate-limit reset, backoff).
        backoff: base of the exponential backoff, seconds.
        user_agent: ``User-Agent`` header value.
        max_connections: requests in flight at once, API calls and downloads together (1..16;
            default ``COPILOT_MAX_CONNECTIONS``, else 4): each HTTP attempt holds one of that many
            slots (never while waiting to retry), and both sessions' connection pools hold that
            many connections per host and block rather than open more (``pool_block``).
            The client is safe to share between threads.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        api_version: str = config.DEFAULT_API_VERSION,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        backoff: float = 1.0,
        user_agent: str = USER_AGENT,
        max_connections: int | str | None = None,
    ) -> None:
        if not token or not str(token).strip():
            raise ConfigError(
                "no GitHub token: put it in the password of Airflow Connection "
                f"'{config.CONN_ID}' (or pass token=...)"
            )
        if max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        self.base_url = build_base_url(base_url)
        self._token = str(token).strip()
        redact.register_secret(self._token, name="github_copilot_token")
        self.api_version = api_version or config.DEFAULT_API_VERSION
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = float(max_wait)
        self.backoff = float(backoff)
        self._sleep = sleep
        self.stats = ClientStats()
        self.max_connections = config.max_connections(max_connections, "max_connections")
        # one slot per request in flight, API calls and downloads together: N=1 is strictly serial
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.session = session or self._pooled(requests.Session())
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "X-GitHub-Api-Version": self.api_version,
                "User-Agent": user_agent,
            }
        )
        # Signed download links must never receive the token: a separate session, no credentials,
        # and no ~/.netrc lookup either.
        self.download_session = self._pooled(requests.Session())
        self.download_session.trust_env = False
        self.download_session.headers.update({"User-Agent": user_agent, "Accept": "*/*"})

    def _pooled(self, session: requests.Session) -> requests.Session:
        """Mount connection pools of ``max_connections`` per host that block when all are in use."""
        adapter = HTTPAdapter(pool_maxsize=self.max_connections, pool_block=True)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def __repr__(self) -> str:
        return f"CopilotClient(base_url={self.base_url!r}, api_version={self.api_version!r})"

    def close(self) -> None:
        """Close both HTTP sessions."""
        self.session.close()
        self.download_session.close()

    def __enter__(self) -> CopilotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- retry machinery ------------------------------------------------------------------

    def _wait_seconds(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = getattr(exc, "wait", None)
        if hinted is not None:
            return max(0.0, min(float(hinted), self.max_wait))
        # Exponential backoff with full jitter: base * 2^(n-1) * U(0.5, 1), capped.
        n = retry_state.attempt_number
        ceiling = min(self.max_wait, self.backoff * (2 ** (n - 1)))
        return ceiling * (0.5 + random.random() / 2)

    def _retry(self, fn: Callable[[], Any], what: str, ctx: dict[str, Any]) -> Any:
        """Run ``fn`` with retries on :class:`RetryableApiError`; give up with a clear error.

        Counts the request, its retries, their causes and waits in :attr:`stats`.
        """
        retries = 0

        def before_sleep(state: tenacity.RetryCallState) -> None:
            nonlocal retries
            retries += 1
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            self.stats.retry(retry_cause(exc), wait)
            reason = exc.brief if isinstance(exc, CopilotApiError) else redact.exception_text(exc)
            log.warning(
                "%s: attempt %d/%d failed (%s); retrying in %.1f s",
                what,
                state.attempt_number,
                self.max_attempts,
                reason,
                wait,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait_seconds,
            retry=tenacity.retry_if_exception_type(RetryableApiError),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(fn)
        except tenacity.RetryError as err:
            last = err.last_attempt.exception()
            status = getattr(last, "status", None)
            detail = getattr(last, "detail", None) or redact.redact(last)
            raise RetriesExhaustedError(
                status,
                ctx.get("scope"),
                ctx.get("report"),
                ctx.get("day"),
                f"gave up after {self.max_attempts} attempts; last error: {detail}",
                request_id=getattr(last, "request_id", None),
            ) from None
        finally:
            self.stats.request_done(retries)

    def _transient(self, exc: requests.RequestException, ctx: dict[str, Any]) -> RetryableApiError:
        self.stats.status(None)
        return RetryableApiError(
            None, ctx.get("scope"), ctx.get("report"), ctx.get("day"), redact.exception_text(exc)
        )

    def _rate_limit_wait(self, resp: requests.Response) -> float | None:
        """Seconds to wait per GitHub's rules: ``Retry-After``, else until ``x-ratelimit-reset``
        (when ``x-ratelimit-remaining`` is 0), else a minute for a secondary-rate-limit message,
        else None (exponential backoff)."""
        retry_after = _retry_after(resp)
        if retry_after is not None:
            return retry_after
        if resp.headers.get("x-ratelimit-remaining") == "0" and resp.headers.get("x-ratelimit-reset"):
            try:
                return max(0.0, float(resp.headers["x-ratelimit-reset"]) - time.time() + 1.0)
            except ValueError:
                pass
        if _SECONDARY_RATE_LIMIT_RE.search(_github_message(resp)):
            return SECONDARY_RATE_LIMIT_WAIT
        return None

    def _classify(self, resp: requests.Response, ctx: dict[str, Any]) -> CopilotApiError:
        """The error for a failed response (retryable or not), with the reason in words."""
        status = resp.status_code
        scope: Scope | None = ctx.get("scope")
        args = (status, scope, ctx.get("report"), ctx.get("day"))
        rid = _request_id(resp)
        gh = _github_message(resp)
        said = f" GitHub said: {gh!r}." if gh else ""
        if _is_rate_limited(resp):
            wait = self._rate_limit_wait(resp)
            reset = resp.headers.get("x-ratelimit-reset")
            when = f"; the limit resets at epoch {reset}" if reset else ""
            hint = f"wait {wait:.0f} s{when}" if wait is not None else "no wait hint; backing off"
            return RateLimitedError(*args, f"rate limited ({hint}).{said}", request_id=rid, wait=wait)
        if status >= 500:
            return RetryableApiError(
                *args, f"GitHub server error.{said}", request_id=rid, wait=_retry_after(resp)
            )
        if status == 401:
            return UnauthorizedError(
                *args,
                "the token was rejected (missing, mistyped, expired or revoked): put a valid token "
                f"in the password of Connection '{config.CONN_ID}'.{said}",
                request_id=rid,
            )
        if status == 403:
            kind = scope.type if scope else config.ORGANIZATION
            return ForbiddenError(
                *args,
                "the token lacks the needed scope or role, or the enterprise policy 'Copilot usage "
                f"metrics' is not 'Enabled everywhere'. Needed: {REQUIRED_SCOPES[kind]}.{said}",
                request_id=rid,
            )
        if status == 404:
            what = scope.type if scope else "organization or enterprise"
            return NotFoundError(
                *args,
                f"not found: the {what} does not exist, is not visible to this token, or has no "
                f"GitHub Copilot subscription.{said}",
                request_id=rid,
            )
        if status == 422:
            if ctx.get("report") == "billing":
                text = "GitHub reports a problem with the account's payment method for Copilot."
            else:
                text = (
                    "the Copilot usage metrics API setting is disabled for this organization or "
                    "enterprise: an owner must enable it (enterprise AI Controls -> Copilot -> "
                    "'Copilot usage metrics')."
                )
            return MetricsDisabledError(*args, f"{text}{said}", request_id=rid)
        return CopilotApiError(*args, f"unexpected response.{said}", request_id=rid)

    def _get(
        self,
        url: str,
        params: dict[str, Any] | None,
        ctx: dict[str, Any],
        *,
        accept: tuple[int, ...] = (200, 204),
    ) -> requests.Response:
        """GET with retries. Returns responses whose status is in ``accept``; raises otherwise.

        Retryable failures are retried; a non-retryable status outside ``accept`` raises its
        classified :class:`CopilotApiError` (after logging GitHub's request id).
        """
        what = ctx.get("what", "GET")

        def attempt() -> requests.Response:
            self.stats.add("calls")
            try:
                with self._slots:  # the whole body is read inside (stream=False)
                    resp = self.session.get(url, params=params, timeout=self.timeout)
            except _TRANSIENT_EXCEPTIONS as exc:
                raise self._transient(exc, ctx) from None
            self.stats.status(resp.status_code)
            if resp.status_code in accept:
                return resp
            error = self._classify(resp, ctx)
            if not error.retryable and resp.status_code not in ctx.get("quiet", ()):
                log.warning("%s failed: %s", what, error)
            raise error

        return self._retry(attempt, what, ctx)

    @staticmethod
    def _json(resp: requests.Response, ctx: dict[str, Any]) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise CopilotApiError(
                resp.status_code,
                ctx.get("scope"),
                ctx.get("report"),
                ctx.get("day"),
                "the response body is not valid JSON",
                request_id=_request_id(resp),
            ) from None

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # --- public API -----------------------------------------------------------------------

    def report_links(self, scope: Scope, report: str, day: date | str | None = None) -> ReportLinks | None:
        """Ask for one report's signed download links; None when there is no report (yet).

        :meth:`report_answer` with both kinds of "no report" (204, empty 200) folded into None.
        """
        answer = self.report_answer(scope, report, day)
        return None if isinstance(answer, NoReport) else answer

    def report_answer(
        self, scope: Scope, report: str, day: date | str | None = None
    ) -> ReportLinks | NoReport:
        """Ask for one report's signed download links.

        Args:
            scope: the organization or enterprise.
            report: a 1-day report (``organization-1-day``, ``users-1-day``, ``user-teams-1-day``,
                ``repos-1-day``, ``enterprise-1-day``) or a 28-day one (``*-28-day``, fetched via
                ``/latest``; ``day`` is then ignored).
            day: the report day (required for 1-day reports).

        Returns:
            The links and report days, or :class:`NoReport` when GitHub has no report for that day
            yet: HTTP 204, or HTTP 200 whose body is empty, ``""``, ``null`` or an empty
            ``download_links`` list (all seen from GitHub; none of them is a measured zero).

        Raises:
            ConfigError: unknown report name, or a 1-day report without a day.
            CopilotApiError: any failure, naming scope, report, day and status.
        """
        is_28 = report.removesuffix("/latest").endswith("-28-day")
        report = report.removesuffix("/latest")
        known = set(config.DAILY_REPORTS[scope.type]) | set(config.LATEST_28_DAY_REPORTS[scope.type])
        known.add("repos-1-day")
        if report not in known:
            raise ConfigError(
                f"{scope.label}: unknown report {report!r}; expected one of {', '.join(sorted(known))}"
            )
        ctx: dict[str, Any] = {"scope": scope, "report": report}
        if is_28:
            path = f"{scope.api_prefix}/copilot/metrics/reports/{report}/latest"
            params = None
            req_day = None
        else:
            if day is None:
                raise ConfigError(f"{scope.label} {report}: a 1-day report needs day=YYYY-MM-DD")
            req_day = config.parse_day(day)
            ctx["day"] = req_day
            path = f"{scope.api_prefix}/copilot/metrics/reports/{report}"
            params = {"day": req_day.isoformat()}
        ctx["what"] = f"{scope.label} {report}" + (f" {req_day}" if req_day else " latest")
        resp = self._get(self._url(path), params, ctx)
        if resp.status_code == 204:
            log.info("%s: no report (HTTP 204)", ctx["what"])
            return NoReport(204, "no report for this day yet (HTTP 204)")
        empty = _empty_answer(resp)
        if empty:
            log.info("%s: no report (HTTP 200 with %s, read as 204)", ctx["what"], empty)
            return NoReport(200, f"no report for this day yet (HTTP 200 with {empty}, read as 204)")
        body = self._json(resp, ctx)
        links = body.get("download_links") if isinstance(body, dict) else None
        if not isinstance(links, list) or not all(isinstance(u, str) and u for u in links):
            raise CopilotApiError(
                200,
                scope,
                report,
                req_day,
                "the response has no download_links list",
                request_id=_request_id(resp),
            )

        def opt_day(key: str) -> date | None:
            value = body.get(key)
            try:
                return config.parse_day(value, key) if value else None
            except ConfigError as exc:
                raise CopilotApiError(200, scope, report, req_day, str(exc)) from None

        report_day = opt_day("report_day")
        if req_day and report_day and report_day != req_day:
            raise CopilotApiError(
                200,
                scope,
                report,
                req_day,
                f"asked for {req_day} but GitHub returned report_day {report_day}",
                request_id=_request_id(resp),
            )
        result = ReportLinks(
            report=report,
            scope=scope,
            day=req_day or report_day,
            links=list(links),
            report_start_day=opt_day("report_start_day"),
            report_end_day=opt_day("report_end_day"),
        )
        log.info("%s: %d download link(s)", ctx["what"], len(result.links))
        return result

    def download(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        scope: Scope | None = None,
        report: str | None = None,
        day: date | str | None = None,
    ) -> int:
        """Stream one signed download link to ``dest`` without the GitHub token.

        The body goes to a temporary file next to ``dest`` and is renamed into place only when
        complete, so ``dest`` is either absent or whole.

        Args:
            url: a signed link from :meth:`report_links` (never logged: only its host is).
            dest: the file to write (parent folders are created).
            scope, report, day: context for error messages and logs.

        Returns:
            The number of bytes written.

        Raises:
            LinkExpiredError: the download host answered 410, or 403 that is not rate limiting
                (ask for fresh links); a rate-limited 403 or 429 waits and retries like an API call.
            RetriesExhaustedError: transient failures (5xx, resets, short bodies) persisted.
            CopilotApiError: any other failure.
        """
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        host = urlsplit(url).netloc or "?"
        ctx: dict[str, Any] = {"scope": scope, "report": report or "download", "day": day}
        what = " ".join(p for p in (scope.label if scope else None, report, str(day) if day else None) if p)
        what = f"{what} download from {host}".strip()

        def attempt() -> int:
            with self._slots:  # held until the body is read and the connection is back in the pool
                return attempt_in_slot()

        def attempt_in_slot() -> int:
            self.stats.add("calls")
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
            try:
                try:
                    resp = self.download_session.get(url, stream=True, timeout=self.timeout)
                except (requests.Timeout, requests.ConnectionError) as exc:
                    raise self._transient(exc, ctx) from None
                with resp:
                    self.stats.status(resp.status_code)
                    rid = _request_id(resp)
                    if resp.status_code == 410 or (resp.status_code == 403 and not _is_rate_limited(resp)):
                        error = LinkExpiredError(
                            resp.status_code,
                            scope,
                            ctx["report"],
                            day,
                            f"the signed download link was refused by {host} (expired or invalid); "
                            "request fresh report links and download again",
                            request_id=rid,
                        )
                        log.warning("%s failed: %s", what, error)
                        raise error
                    if resp.status_code != 200:
                        error = self._classify(resp, ctx)
                        if not error.retryable:
                            log.warning("%s failed: %s", what, error)
                        raise error
                    expected = resp.headers.get("Content-Length")
                    encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
                    written = 0
                    try:
                        with open(tmp, "wb") as fh:
                            for chunk in resp.iter_content(DOWNLOAD_CHUNK):
                                fh.write(chunk)
                                written += len(chunk)
                    except (
                        requests.exceptions.ChunkedEncodingError,
                        requests.ConnectionError,
                        requests.Timeout,
                    ) as exc:
                        raise ShortBodyError(
                            200,
                            scope,
                            ctx["report"],
                            day,
                            f"the download from {host} broke off after {_wire_bytes(resp, written)} "
                            f"of {expected or 'unknown'} bytes ({redact.exception_text(exc)})",
                        ) from None
                    received = resp.raw.tell() if encoded else written
                    if expected is not None and expected.isdigit() and received < int(expected):
                        raise ShortBodyError(
                            200,
                            scope,
                            ctx["report"],
                            day,
                            f"short body from {host}: got {received} of {expected} bytes",
                        )
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
            self.stats.add("downloads")
            self.stats.add("bytes", written)
            log.info("%s: %d bytes -> %s", what, written, dest.name)
            return written

        return self._retry(attempt, what, ctx)

    def billing(self, scope: Scope) -> dict[str, Any]:
        """``GET /orgs/{org}/copilot/billing``: seat breakdown and Copilot settings.

        Raises:
            ConfigError: for an enterprise scope (GitHub has no enterprise billing summary).
            CopilotApiError: any failure (404: no Copilot; 422: payment problem).
        """
        if scope.type != config.ORGANIZATION:
            raise ConfigError(f"{scope.label}: the billing summary exists for organizations only")
        ctx = {"scope": scope, "report": "billing", "what": f"{scope.label} billing"}
        resp = self._get(self._url(f"{scope.api_prefix}/copilot/billing"), None, ctx, accept=(200,))
        body = self._json(resp, ctx)
        if not isinstance(body, dict):
            raise CopilotApiError(200, scope, "billing", None, "the billing response is not an object")
        return body

    def _paged(self, first_url: str, params: dict[str, Any] | None, ctx: dict[str, Any]) -> Iterator[Any]:
        """Yield each page's decoded JSON, following ``Link: rel="next"`` URLs verbatim."""
        url: str | None = first_url
        seen: set[str] = set()
        page = 0
        while url:
            page += 1
            page_ctx = {**ctx, "what": f"{ctx['what']} page {page}"}
            resp = self._get(url, params, page_ctx)
            if resp.status_code == 204:
                return
            yield self._json(resp, page_ctx)
            seen.add(url)
            next_url = resp.links.get("next", {}).get("url")
            if next_url in seen:
                raise CopilotApiError(
                    resp.status_code,
                    ctx.get("scope"),
                    ctx.get("report"),
                    ctx.get("day"),
                    f"pagination loops back to an earlier page after page {page}",
                )
            url, params = next_url, None  # the next URL already carries every parameter

    def seats(self, scope: Scope, listing: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """``GET {scope}/copilot/billing/seats``: every seat assignment, across all pages.

        Args:
            scope: the organization or enterprise.
            listing: if given, receives ``total_seats`` (GitHub's count of billed seats, from the
                first page; None when absent) and ``pages``.

        Yields:
            Seat objects as GitHub sends them (``assignee``, ``plan_type``, ``last_activity_at``...);
            ``assignee`` may be null or Team-shaped, which is kept as sent.
        """
        ctx = {"scope": scope, "report": "seats", "what": f"{scope.label} seats"}
        url = self._url(f"{scope.api_prefix}/copilot/billing/seats")
        for pages, body in enumerate(self._paged(url, {"per_page": SEATS_PER_PAGE}, ctx), start=1):
            seats = body.get("seats") if isinstance(body, dict) else None
            if not isinstance(seats, list):
                raise CopilotApiError(200, scope, "seats", None, "the seats response has no seats list")
            if listing is not None:
                if pages == 1:
                    total = body.get("total_seats")
                    listing["total_seats"] = total if isinstance(total, int) and total >= 0 else None
                listing["pages"] = pages
            yield from seats

    def legacy_metrics(
        self, scope: Scope, since: date | datetime | str, until: date | datetime | str
    ) -> list[dict[str, Any]]:
        """The legacy ``GET {scope}/copilot/metrics?since&until`` day objects (Link paging).

        GitHub closed this API on 2026-04-02; it now answers 404, which raises
        :class:`LegacyApiRetiredError` at once (never retried).

        Raises:
            LegacyApiRetiredError: on 404.
            CopilotApiError: any other failure (422: metrics policy disabled).
        """
        since_day, until_day = _day_text(since, "since"), _day_text(until, "until")
        if until_day < since_day:
            raise ConfigError(f"{scope.label} legacy metrics: until {until_day} is before since {since_day}")
        span = f"{since_day}..{until_day}"
        ctx = {
            "scope": scope,
            "report": "legacy-metrics",
            "day": span,
            "what": f"{scope.label} legacy metrics {span}",
            "quiet": (404,),  # reported below as "retired", not as "not found"
        }
        params = {
            "since": f"{since_day}T00:00:00Z",
            "until": f"{until_day}T23:59:59Z",
            "per_page": LEGACY_PER_PAGE,
        }
        days: list[dict[str, Any]] = []
        try:
            for body in self._paged(self._url(f"{scope.api_prefix}/copilot/metrics"), params, ctx):
                if not isinstance(body, list):
                    raise CopilotApiError(200, scope, "legacy-metrics", span, "expected a JSON array of days")
                days.extend(body)
        except NotFoundError as err:
            log.warning("%s: HTTP 404, the legacy API is retired", ctx["what"])
            raise LegacyApiRetiredError(
                404,
                scope,
                "legacy-metrics",
                span,
                "the legacy Copilot Metrics API (/copilot/metrics) was retired by GitHub on "
                f"{config.LEGACY_RETIRED_ON.isoformat()} and now answers 404; load archived legacy JSON "
                "with `make import-legacy` and use the usage-metrics reports for newer days",
                request_id=err.request_id,
            ) from None
        return days

    def check_availability(self, scope: Scope) -> Availability:
        """Probe whether this token can fetch the scope's usage-metrics reports.

        Order (reference §6): for an organization ``GET /orgs/{org}/copilot/billing`` (404: no
        Copilot), then the ``organization-28-day``/``enterprise-28-day`` ``/latest`` report.

        Returns:
            Availability; ``reason`` explains 401/403/404/422 with the fix.

        Raises:
            RetriesExhaustedError: GitHub kept failing transiently (an outage, not a verdict).
        """
        seats: int | None = None
        notes: list[str] = []
        if scope.type == config.ORGANIZATION:
            try:
                body = self.billing(scope)
                breakdown = body.get("seat_breakdown") or {}
                seats = breakdown.get("total") if isinstance(breakdown, dict) else None
                notes.append(f"{seats if seats is not None else 'unknown number of'} Copilot seat(s)")
            except NotFoundError as err:
                checked = f"(checked GET {scope.api_prefix}/copilot/billing)"
                return Availability(False, 404, f"{err.detail} {checked}")
            except UnauthorizedError as err:
                return Availability(False, 401, err.detail)
            except (ForbiddenError, MetricsDisabledError) as err:
                # Billing needs an owner; a metrics-only role may still read reports. Go on.
                notes.append(f"billing not readable (HTTP {err.status})")
        report = f"{scope.type}-28-day"
        try:
            links = self.report_links(scope, report)
        except (UnauthorizedError, ForbiddenError, NotFoundError, MetricsDisabledError) as err:
            return Availability(False, err.status, err.detail, seats=seats)
        except CopilotApiError as err:
            if err.retryable or isinstance(err, RetriesExhaustedError):
                raise
            return Availability(False, err.status, err.detail, seats=seats)
        if links is None:
            notes.append(f"no {report} report yet (HTTP 204)")
            return Availability(True, 204, f"{scope.label} reachable; " + "; ".join(notes), seats=seats)
        notes.append(f"latest {report} report ends {links.report_end_day}")
        return Availability(
            True,
            200,
            f"{scope.label} available; " + "; ".join(notes),
            seats=seats,
            report_end_day=links.report_end_day,
        )

    def rate_limit(self) -> dict[str, Any]:
        """``GET /rate_limit`` (costs no primary quota): proves the token works."""
        ctx = {"report": "rate_limit", "what": "GET /rate_limit"}
        resp = self._get(self._url("/rate_limit"), None, ctx, accept=(200,))
        body = self._json(resp, ctx)
        return body if isinstance(body, dict) else {}
