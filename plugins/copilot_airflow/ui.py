"""The usage report and a data-health view inside Airflow's UI: the FastAPI app the plugin mounts.

:mod:`copilot_usage_plugin` mounts :data:`app` at ``/copilot-usage`` in Airflow's API server and
adds two navigation entries that show these pages in Airflow's own UI:

- ``GET /copilot-usage/`` — the usage report: the last one built, i.e. ``report/index.html``
  next to the warehouse, which the transform DAG's ``build_report`` task rewrites after every
  ``dbt build`` (``make report`` writes the same file for the default warehouse). Serving the
  file never opens the warehouse, so a DAG task holding DuckDB's write lock never delays it.
  No report yet: HTTP 404 and a page saying how one gets built.
- ``GET /copilot-usage/health`` — data health: per scope the newest report day loaded and its
  freshness, days missing or failed, reports GitHub does not offer, configured scopes with no
  data (skipped by the ingest or never loaded), whether the report exists and when it was built,
  and the odd values GitHub supplied. Read from ``marts.fct_copilot_data_health`` and
  ``marts.fct_copilot_data_quality`` (the report's own queries) on a read-only connection that
  never waits for the lock: while a task writes the warehouse the page answers HTTP 503 and says
  the warehouse is busy (showing the last view this server read, with its time, when it has one).
  No warehouse yet: HTTP 404 and a page saying so.

Every answer is an HTML page, never a traceback: an unexpected error gives HTTP 500 and one
redacted line. Pages carry no secret: nothing here reads the GitHub Connection or its token, and
the report is the same file anyone with the data folder can read.

Every page requires an Airflow login (plugin apps are not protected by Airflow itself): the
UI's session cookie or an ``Authorization: Bearer`` token, checked by Airflow's own auth manager.
Without one the answer is HTTP 401 with a link to Airflow's login.
"""

from __future__ import annotations

import html
import logging
import os
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

# The only imports of the project's own code (copilot_warehouse.*): module paths may move.
from copilot_warehouse import config, redact, warehouse
from copilot_warehouse.pipeline import gaps, schedule
from copilot_warehouse.serve.report import REPORT_FILE, panels
from copilot_warehouse.serve.report.data import MartReader, ScopeKey
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

log = logging.getLogger(__name__)

URL_PREFIX = "/copilot-usage"
REPORT_DIR_NAME = "report"  # the transform DAG writes <warehouse folder>/report/index.html
BUSY_RETRY_SECONDS = 30
NO_STORE = {"Cache-Control": "no-store"}


def warehouse_file() -> Path:
    """The DuckDB warehouse the pipeline writes (``COPILOT_WAREHOUSE_PATH``)."""
    return config.warehouse_path()


def report_file(warehouse_path: Path | None = None) -> Path:
    """The report the transform DAG builds next to the warehouse."""
    return (warehouse_path or warehouse_file()).parent / REPORT_DIR_NAME / REPORT_FILE


# --- pages -------------------------------------------------------------------------------------
_STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --ok: #1a7f37;
        --warn: #9a6700; --bad: #cf222e; }
body { margin: 0; padding: 20px 28px; font-family: -apple-system, "Segoe UI", Helvetica, Arial,
       sans-serif; font-size: 14px; color: var(--fg); background: var(--bg); line-height: 1.45; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 8px; }
.muted { color: var(--muted); } .ok { color: var(--ok); } .warn { color: var(--warn); }
.bad { color: var(--bad); font-weight: 600; }
.notice { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--warn);
          padding: 12px 16px; margin: 12px 0; border-radius: 6px; max-width: 900px; }
.notice.bad-box { border-left-color: var(--bad); }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 13px; }
"""


def _page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    doc = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers={**NO_STORE, **(headers or {})})


def _notice(text: str, bad: bool = False) -> str:
    return f'<div class="notice{" bad-box" if bad else ""}">{text}</div>'


def _e(value: Any) -> str:
    return html.escape(str(value))


def _report_state(path: Path) -> tuple[bool, str]:
    """Whether the report exists, and a sentence about it (HTML)."""
    try:
        built = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return False, (
            "No report has been built yet. The transform DAG <code>copilot_usage_transform</code> "
            "builds it (task <code>build_report</code>) after every load; <code>make report</code> "
            "builds it by hand."
        )
    return True, f"Report built {built:%Y-%m-%d %H:%M} UTC (<code>{_e(path)}</code>)."


def report_page() -> Any:
    """The last built report (404 page when there is none yet)."""
    path = report_file()
    exists, sentence = _report_state(path)
    if not exists:
        return _page("GitHub Copilot usage report", _notice(sentence), status=404)
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=NO_STORE)


class _LastHealth:
    """The last data-health view this server read, shown (marked as such) while the warehouse is busy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.body: str | None = None
        self.read_at: datetime | None = None
        self.warehouse: Path | None = None

    def keep(self, wh: Path, body: str) -> None:
        with self._lock:
            self.body, self.read_at, self.warehouse = body, datetime.now(UTC), wh

    def get(self, wh: Path) -> tuple[str, datetime] | None:
        with self._lock:
            if self.body is None or self.warehouse != wh or self.read_at is None:
                return None
            return self.body, self.read_at


_last_health = _LastHealth()


def _configured_scopes() -> list[tuple[str, str]]:
    """Scopes the Variables name when they are set as environment variables (else [])."""
    orgs = os.environ.get(f"AIRFLOW_VAR_{config.VAR_ORGS.upper()}")
    enterprises = os.environ.get(f"AIRFLOW_VAR_{config.VAR_ENTERPRISES.upper()}")
    if not orgs and not enterprises:
        return []
    try:
        return [(s.type, s.name) for s in schedule.parse_scopes(orgs or "[]", enterprises)]
    except config.ConfigError:
        return []


def _freshness(latest: Any, today: date) -> tuple[str, str]:
    """(css class, sentence) for a scope's newest loaded report day, worded as the ingest's check."""
    try:
        simulator_last_day = config.simulator_last_day()
    except config.ConfigError:
        simulator_last_day = None
    if not latest:
        return "bad", "no report day loaded yet"
    day = date.fromisoformat(str(latest)[:10])
    age = (today - day).days
    if simulator_last_day is not None:
        return "ok", f"simulator data (ends {simulator_last_day})"
    if age > gaps.FRESHNESS_MAX_AGE_DAYS:
        return "bad", f"STALE: {age} day(s) old (alert above {gaps.FRESHNESS_MAX_AGE_DAYS})"
    return "ok", f"fresh: {age} day(s) old"


_HEALTH_COLUMNS = (
    ("latest_report_day", "Newest day loaded", "date"),
    ("days_missing", "Days missing", "int"),
    ("days_failed", "Days failed", "int"),
    ("days_no_report", "Days without a report", "int"),
    ("quarantined_records", "Quarantined records", "int"),
    ("unavailable_reports", "Reports GitHub does not offer", "text"),
    ("source_anomalies", "Odd values from GitHub", "int"),
    ("seat_snapshot_day", "Latest seats listing", "date"),
)
_ANOMALY_COLUMNS = (
    ("scope_type", "Scope type"),
    ("scope_name", "Scope"),
    ("day", "Day"),
    ("check_name", "Check"),
    ("source_report", "Report"),
    ("subject", "Subject"),
    ("observed_values", "Observed values"),
    ("finding", "Finding"),
)


def _health_body(con: Any, wh: Path, today: date) -> str:
    """The data-health view from an open read-only connection (HTML body)."""
    reader = MartReader(con)
    health = panels.data_health(reader)
    anomalies = panels.anomalies(reader)
    exists, sentence = _report_state(report_file(wh))
    parts = [
        f'<p class="muted">Warehouse <code>{_e(wh)}</code>, read {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. '
        f'<a href="./">Open the usage report</a>.</p>',
        "<h2>Report</h2>",
        f'<p id="report-availability" class="{"ok" if exists else "warn"}">{sentence}</p>',
        "<h2>Scopes</h2>",
    ]
    if health:
        head = "".join(f"<th>{_e(label)}</th>" for _, label, _ in _HEALTH_COLUMNS)
        rows = []
        for r in health.rows:
            tone, fresh = _freshness(r.get("latest_report_day"), today)
            cells = "".join(
                f'<td class="{"num" if kind == "int" else ""}">{_e(panels.fmt(r.get(key), kind))}</td>'
                for key, _, kind in _HEALTH_COLUMNS
            )
            scope = ScopeKey(str(r["scope_type"]), str(r["scope_name"]))
            rows.append(
                f'<tr data-scope="{_e(scope.slug)}"><td>{_e(scope.title)}</td>'
                f'<td class="{tone}">{_e(fresh)}</td>{cells}</tr>'
            )
        parts.append(
            f'<table id="data-health"><thead><tr><th>Scope</th><th>Freshness</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        known = {(str(r["scope_type"]), str(r["scope_name"])) for r in health.rows}
    else:
        parts.append(f'<p id="data-health" class="warn">{_e(health.note)}</p>')
        known = set()
    missing = [s for s in _configured_scopes() if s not in known]
    if missing:
        names = ", ".join(f"{t}:{n}" for t, n in missing)
        parts.append(
            f'<p id="scopes-without-data" class="warn">Configured but without data: {_e(names)} — skipped '
            "by the ingest (e.g. Copilot metrics not enabled; the ingest run's <code>run_summary</code> "
            "log says why) or not loaded yet.</p>"
        )
    parts.append("<h2>Odd values GitHub supplied</h2>")
    if anomalies:
        head = "".join(f"<th>{_e(label)}</th>" for _, label in _ANOMALY_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(panels.fmt(r.get(k)))}</td>" for k, _ in _ANOMALY_COLUMNS) + "</tr>"
            for r in anomalies.rows
        )
        parts.append(f'<table id="anomalies"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
    else:
        parts.append(f'<p id="anomalies" class="ok">{_e(anomalies.note)}</p>')
    parts.append(
        '<p class="muted">Sources: <code>marts.fct_copilot_data_health</code>, '
        "<code>marts.fct_copilot_data_quality</code>.</p>"
    )
    return "".join(parts)


HEALTH_TITLE = "Copilot data health"


def health_page() -> HTMLResponse:
    """Data health from the marts; a clear page when the warehouse is missing, busy or unreadable."""
    wh = warehouse_file()
    if not wh.is_file():
        exists, sentence = _report_state(report_file(wh))
        return _page(
            HEALTH_TITLE,
            _notice(
                f"No warehouse yet at <code>{_e(wh)}</code>: it is created by the first run of the "
                "<code>copilot_usage_ingest</code> DAG (or <code>make run</code>)."
            )
            + f'<p id="report-availability">{sentence}</p>',
            status=404,
        )
    try:
        con = warehouse.connect(wh, read_only=True, lock_timeout=0)
    except warehouse.WarehouseLockedError:
        last = _last_health.get(wh)
        retry = {"Retry-After": str(BUSY_RETRY_SECONDS)}
        busy = (
            "The warehouse is busy: a DAG task is writing it (DuckDB allows one writer, and no reader "
            "meanwhile). Reload in a minute."
        )
        if last is None:
            return _page(HEALTH_TITLE, _notice(busy), status=503, headers=retry)
        body, read_at = last
        return _page(
            HEALTH_TITLE,
            _notice(f"{busy} Shown below: the view read at {read_at:%Y-%m-%d %H:%M} UTC.") + body,
            status=503,
            headers=retry,
        )
    try:
        body = _health_body(con, wh, datetime.now(UTC).date())
    finally:
        con.close()
    _last_health.keep(wh, body)
    return _page(HEALTH_TITLE, body)


# --- the app -----------------------------------------------------------------------------------
_bearer = HTTPBearer(auto_error=False)


async def require_airflow_login(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """Airflow's own check of a logged-in user: the UI's session cookie, or a Bearer token.

    Imports Airflow's API-server code only when a request comes, so loading the plugin in other
    Airflow processes (scheduler, DAG processor, task runners) stays light.

    Raises:
        HTTPException: 401/403 from Airflow when there is no valid login.
    """
    from airflow.api_fastapi.core_api.security import get_user

    await get_user(request=request, _oauth_token=None, bearer_credentials=credentials)


def create_app(*, require_login: bool = True) -> FastAPI:
    """The FastAPI app the plugin mounts.

    Args:
        require_login: check the Airflow login on every page (False only in unit tests, which run
            without an Airflow API server).
    """
    deps = [Depends(require_airflow_login)] if require_login else []
    application = FastAPI(
        title="Copilot usage",
        description=__doc__.split("\n")[0],
        dependencies=deps,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @application.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        if exc.status_code in (401, 403):
            return _page(
                "Log in to Airflow",
                _notice(
                    'These pages are part of Airflow\'s UI: <a href="/" target="_top">log in to Airflow</a> '
                    "and open them from its navigation."
                ),
                status=exc.status_code,
            )
        return _page("Copilot usage", _notice(_e(exc.detail)), status=exc.status_code)

    application.add_api_route("/", _safe(report_page), methods=["GET"], response_model=None)
    application.add_api_route("/health", _safe(health_page), methods=["GET"], response_model=None)
    return application


def _safe(page: Any) -> Any:
    """``page`` answering HTTP 500 and one redacted line instead of a traceback when it fails."""

    def handler() -> Any:
        try:
            return page()
        except Exception as exc:  # a page, never a traceback; the log keeps the redacted line
            text = str(exc).strip()
            line = redact.redact(text.splitlines()[0] if text else type(exc).__name__)
            log.error("copilot usage page %s failed: %s", page.__name__, line)
            return _page("Copilot usage", _notice(f"This page could not be shown: {_e(line)}", bad=True), 500)

    handler.__name__ = page.__name__
    handler.__doc__ = page.__doc__
    return handler


app = create_app()
