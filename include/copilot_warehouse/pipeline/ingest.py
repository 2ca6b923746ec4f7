"""Fetch, land and load: the functions Airflow tasks (and ``make backfill``) call.

Fetching and loading are separate steps with a small JSON receipt between them, so fetch tasks can
run anywhere in parallel (network only, they never open DuckDB) and one task loads serially (the
only DuckDB writer of ingest):

- :func:`fetch_scope_days` asks for each (report, day) of a scope, downloads every part into the
  landing zone and returns one receipt per call; a report whose newest day answers 404 is not
  offered for that scope (:mod:`availability`) and its other days are not asked for. Up to the
  client's ``max_connections`` (``COPILOT_MAX_CONNECTIONS``) units run at once
  (:func:`fetch_scopes_days`: several scopes under the same bound);
- :func:`fetch_snapshot` lands the seats/billing snapshot of a scope;
- :func:`load_receipts` opens the warehouse once and loads each landed partition, logging the
  others (204, failures) in ``raw.ingest_log``; it returns the run summary;
- :func:`fetch_and_load` is the one fetch-and-load path, overlapped: :func:`run_range` (several
  scopes and a range of days: backfills, benchmarks) and ``make backfill`` (in chunks) use it.

A receipt is ``{"scope_type", "scope_name", "report", "day", "status", "http_status", "parts",
"bytes", "message", "retries"}`` with ``status`` one of ``landed``, ``no_report`` (HTTP 204, or an
empty 200), ``unavailable`` (HTTP 404 on the report call: ``report_unavailable`` says whether the
whole report is not offered for the scope, or only that day) or ``failed`` (message redacted).
Receipts never hold a URL or a token.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from copilot_warehouse import config, redact, warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.extract import availability
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader

log = redact.get_logger(__name__)

MAX_LINK_REFRESHES = 2  # fresh links asked for when a signed link expired mid-download
LANDED, NO_REPORT, FAILED, RETIRED = "landed", "no_report", "failed", "retired"
UNAVAILABLE = "unavailable"  # the report call answered 404: not offered (for the scope, or that day)
LEGACY_REPORT = "legacy-metrics"  # receipts of legacy.fetch_legacy


class IngestError(RuntimeError):
    """Every fetch of a run failed, or a landed partition could not be loaded."""


def _receipt(
    scope: Scope,
    report: str,
    day: date | None,
    status: str,
    http_status: int | None,
    *,
    parts: int = 0,
    nbytes: int = 0,
    message: str | None = None,
    retries: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "scope_type": scope.type,
        "scope_name": scope.name,
        "report": report,
        "day": day.isoformat() if day else None,
        "status": status,
        "http_status": http_status,
        "parts": parts,
        "bytes": nbytes,
        "message": redact.redact(message) if message else None,
        "retries": retries,
        **extra,
    }


def _retries(client: Any) -> int:
    """Retries the client made so far for the calling thread (one receipt is fetched by one thread)."""
    stats = getattr(client, "stats", None) or {}
    if hasattr(stats, "thread_retries"):
        return int(stats.thread_retries())
    return int(stats.get("retries", 0)) if isinstance(stats, dict) else 0


def max_connections(client: Any) -> int:
    """How many (scope, report, day) units to fetch at once: the client's ``max_connections``."""
    value = getattr(client, "max_connections", None)
    return value if isinstance(value, int) and value >= 1 else 1


def request_accounting(client: Any, before: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The client's per-request retry accounting (minus ``before``), or None for a client without."""
    from copilot_warehouse.extract.client import request_accounting as accounting

    stats = getattr(client, "stats", None)
    if not hasattr(stats, "snapshot"):
        return None
    return accounting(stats.snapshot(), before)


def _api_error_type() -> type[Exception]:
    from copilot_warehouse.extract.client import CopilotApiError

    return CopilotApiError


def fetch_report(
    client: Any, scope: Scope, report: str, day: date | None, landing_root: str | os.PathLike[str]
) -> dict[str, Any]:
    """Fetch one report for one day (``day=None`` for a ``*-28-day/latest`` report) and land it.

    One report call, then every part is downloaded without the token. When a signed link expires
    the report's links are requested again (at most ``MAX_LINK_REFRESHES`` times). A 204 lands a
    manifest with no parts (for 28-day reports, whose day is unknown then, nothing is landed).

    Returns:
        A receipt. A 404 on the report call becomes an ``unavailable`` receipt (with
        ``report_unavailable`` true for a ``*-28-day/latest`` report, which has no other day);
        other API errors a ``failed`` receipt; other errors propagate.
    """
    from copilot_warehouse.extract.client import CopilotApiError, LinkExpiredError, NoReport, NotFoundError

    label = f"{scope.label} {report} {day.isoformat() if day else 'latest'}"
    retries_before = _retries(client)
    refreshes = 0
    try:
        while True:
            try:
                links = client.report_answer(scope, report, day)
            except NotFoundError as exc:
                log.warning("%s: not offered (HTTP 404)", label)
                return _receipt(
                    scope,
                    report,
                    day,
                    UNAVAILABLE,
                    404,
                    message=_not_offered_message(report, exc.detail),
                    retries=_retries(client) - retries_before + refreshes,
                    report_unavailable=day is None,
                    checked_day=datetime.now(UTC).date().isoformat(),
                )
            if isinstance(links, NoReport):
                # An empty 200 is landed and logged exactly like a 204: no report yet, not a zero.
                if day is not None:
                    zone.write_partition(landing_root, scope, report, day, 204)
                log.info("%s: %s", label, links.detail)
                return _receipt(
                    scope,
                    report,
                    day,
                    NO_REPORT,
                    204,
                    message=links.detail,
                    retries=_retries(client) - retries_before + refreshes,
                )
            land_day = day or links.report_end_day or links.day
            if land_day is None:
                raise CopilotApiError(200, scope, report, None, "the report answer names no day")
            extra = {}
            if links.report_start_day:
                extra = {
                    "report_start_day": links.report_start_day.isoformat(),
                    "report_end_day": links.report_end_day.isoformat() if links.report_end_day else None,
                }
            try:
                nbytes = 0
                with zone.partition_writer(landing_root, scope, report, land_day) as writer:
                    for index, url in enumerate(links.links, start=1):
                        nbytes += client.download(
                            url, writer.part_path(index), scope=scope, report=report, day=land_day
                        )
                    writer.commit(200, link_refreshes=refreshes, **extra)
            except LinkExpiredError:
                refreshes += 1
                if refreshes > MAX_LINK_REFRESHES:
                    raise
                if hasattr(getattr(client, "stats", None), "link_refreshed"):
                    client.stats.link_refreshed()
                log.warning("%s: a download link expired; asking for fresh links (%d)", label, refreshes)
                continue
            log.info("%s: landed %d parts, %d bytes", label, len(links.links), nbytes)
            return _receipt(
                scope,
                report,
                land_day,
                LANDED,
                200,
                parts=len(links.links),
                nbytes=nbytes,
                retries=_retries(client) - retries_before + refreshes,
                **extra,
            )
    except CopilotApiError as exc:
        log.warning("%s: failed: %s", label, redact.exception_text(exc))
        return _receipt(
            scope,
            report,
            day,
            FAILED,
            exc.status,
            message=str(exc),
            retries=_retries(client) - retries_before + refreshes,
        )


def _not_offered_message(report: str, detail: str) -> str:
    """Why a report call answered 404, without the scope-level guesses (the scope was reachable)."""
    said = detail.split("GitHub said:", 1)[1].strip() if "GitHub said:" in detail else ""
    return f"GitHub answered HTTP 404 for {report}" + (f" (GitHub said: {said.rstrip('.')})" if said else "")


def fetch_scope_days(
    client: Any,
    scope: Scope,
    days: Iterable[date | str],
    landing_root: str | os.PathLike[str],
    reports: Iterable[str] | None = None,
    *,
    latest_28_day: bool = False,
    skip_reports: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Fetch and land every (report, day) of a scope; network and landing zone only.

    Each report's newest day is asked for first: a 404 there means GitHub does not offer the
    report for this scope (``repos-1-day`` is not on every plan or region), so its other days are
    not asked for and one ``unavailable`` receipt (``report_unavailable`` true) says so. A 404 on
    an older day of a report that answered for the newest one concerns that day only.

    Args:
        client: a ``CopilotClient``.
        scope: the organization or enterprise.
        days: report days (dates or ``YYYY-MM-DD``).
        landing_root: landing zone root (path or fsspec URL).
        reports: report names; default ``config.DAILY_REPORTS[scope.type]``.
        latest_28_day: also fetch ``config.LATEST_28_DAY_REPORTS`` (landed under their end day),
            used by the completeness check.
        skip_reports: ``{report: reason}`` already found unavailable today
            (:func:`availability.reports_to_skip`): not asked for at all.

    Returns:
        One JSON-serialisable receipt per report call, in day then report order, then one
        ``unavailable`` receipt (no day, ``checked`` false) per skipped report.

    Raises:
        IngestError: every call failed (the message lists why); partial failures only show in
            the receipts, so the days that worked are kept.
    """
    day_list = sorted({config.parse_day(d) for d in days})
    report_list = list(reports) if reports is not None else list(config.DAILY_REPORTS[scope.type])
    skip = dict(skip_reports or {})
    receipts = list(_iter_scope_fetches(client, scope, day_list, report_list, landing_root, skip))
    _sort_receipts(receipts, report_list)
    if latest_28_day:
        receipts += fetch_latest_28_day(client, scope, landing_root, skip_reports=skip)
    receipts += [_skipped_receipt(scope, report, reason) for report, reason in sorted(skip.items())]
    _raise_if_all_failed(scope, receipts)
    return receipts


def _sort_receipts(receipts: list[dict[str, Any]], report_list: list[str]) -> None:
    order = {r: i for i, r in enumerate(report_list)}
    receipts.sort(key=lambda r: (r["day"] or "", order[r["report"]]))


def fetch_scopes_days(
    client: Any,
    days_by_scope: dict[Scope, Iterable[date | str]],
    landing_root: str | os.PathLike[str],
    *,
    skip_reports: dict[Scope, dict[str, str]] | None = None,
    stop: threading.Event | None = None,
) -> tuple[dict[Scope, list[dict[str, Any]]], list[str]]:
    """:func:`fetch_scope_days` for several scopes at once, sharing one bound on connections.

    Every (scope, report, day) of every scope goes through one :func:`_fetch_units`, so the
    client's ``max_connections`` bounds the whole fetch (``make backfill`` fetches a chunk so).

    Returns:
        ``({scope: receipts}, errors)``: each scope's receipts as :func:`fetch_scope_days` gives
        them (without ``latest_28_day``), and one message per scope whose every call failed (its
        receipts are then dropped, as that function would raise).
    """
    plan = []
    for scope, days in days_by_scope.items():
        day_list = sorted({config.parse_day(d) for d in days})
        skip = dict((skip_reports or {}).get(scope, {}))
        plan.append((scope, day_list, list(config.DAILY_REPORTS[scope.type]), skip))
    by_scope: dict[Scope, list[dict[str, Any]]] = {scope: [] for scope, *_ in plan}
    for receipt in _fetch_units(client, plan, landing_root, stop):
        by_scope[Scope(receipt["scope_type"], receipt["scope_name"])].append(receipt)
    errors = []
    for scope, _days, report_list, skip in plan:
        receipts = by_scope[scope]
        _sort_receipts(receipts, report_list)
        receipts += [_skipped_receipt(scope, report, reason) for report, reason in sorted(skip.items())]
        try:
            _raise_if_all_failed(scope, receipts)
        except IngestError as exc:
            errors.append(str(exc))
            by_scope[scope] = []
    return by_scope, errors


def _iter_scope_fetches(
    client: Any,
    scope: Scope,
    day_list: list[date],
    report_list: list[str],
    landing_root: str | os.PathLike[str],
    skip: dict[str, str],
    stop: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Fetch each report of a scope, newest day first, and yield each receipt as it is landed.

    :func:`_fetch_units` for one scope (up to the client's ``max_connections`` at a time).
    """
    yield from _fetch_units(client, [(scope, day_list, report_list, skip)], landing_root, stop)


def _fetch_units(
    client: Any,
    plan: list[tuple[Scope, list[date], list[str], dict[str, str]]],
    landing_root: str | os.PathLike[str],
    stop: threading.Event | None = None,
    workers: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Fetch every (scope, report, day) of ``plan``, up to ``workers`` at a time; yield each receipt.

    ``plan`` holds ``(scope, days, reports, skip)``. Each report's newest day is asked for first: a
    404 there ends that report (``report_unavailable``, its other days never asked for); once it
    answered, its other days (oldest first) go ahead of the reports not started yet, so with one
    worker the order is exactly report by report, newest day then the others. ``skip`` reports are
    not asked for; ``stop`` ends the submissions early (units in flight finish). Receipts come in
    the order they finish. ``workers`` defaults to the client's ``max_connections``; the client
    bounds the requests in flight to the same number (a unit is one report call then its downloads,
    so the units hold at most that many connections).
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    workers = workers or max_connections(client)
    ready: deque[tuple[Scope, str, date, list[date]]] = deque(
        (scope, report, days[-1], days[:-1])
        for scope, days, reports, skip in plan
        if days
        for report in reports
        if report not in skip
    )
    if not ready:
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="copilot-fetch-unit") as pool:
        running: dict[Any, tuple[Scope, str, list[date]]] = {}
        try:
            while ready or running:
                while ready and len(running) < workers and not (stop is not None and stop.is_set()):
                    scope, report, day, later = ready.popleft()
                    future = pool.submit(fetch_report, client, scope, report, day, landing_root)
                    running[future] = (scope, report, later)
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    scope, report, later = running.pop(future)
                    receipt = future.result()
                    if later is not None and receipt["status"] == UNAVAILABLE:
                        receipt["report_unavailable"] = True
                        log.warning(
                            "%s %s: HTTP 404 on its newest day; its other days are not asked for",
                            scope.label,
                            report,
                        )
                    elif later:  # the newest day answered: its other days go first, oldest first
                        ready.extendleft((scope, report, day, None) for day in reversed(later))
                    yield receipt
        finally:
            for future in running:
                future.cancel()


def _skipped_receipt(scope: Scope, report: str, reason: str) -> dict[str, Any]:
    """The receipt of a report not asked for because it was found unavailable today already."""
    return _receipt(
        scope, report, None, UNAVAILABLE, None, message=reason, report_unavailable=True, checked=False
    )


def fetch_latest_28_day(
    client: Any,
    scope: Scope,
    landing_root: str | os.PathLike[str],
    *,
    skip_reports: dict[str, str] | None = None,
) -> list[dict]:
    """Fetch the ``*-28-day/latest`` reports of a scope (landed under day = report end day).

    Reports in ``skip_reports`` (found unavailable today already) are not asked for.
    """
    return [
        fetch_report(client, scope, report, None, landing_root)
        for report in config.LATEST_28_DAY_REPORTS[scope.type]
        if report not in (skip_reports or {})
    ]


def _raise_if_all_failed(scope: Scope, receipts: list[dict]) -> None:
    # Every call failed or answered 404 (a scope unknown to the token, when no availability
    # check ran first): nothing of the scope can be loaded.
    if receipts and all(r["status"] in (FAILED, UNAVAILABLE) for r in receipts):
        reasons = sorted({r["message"] or "unknown error" for r in receipts})
        raise IngestError(
            f"{scope.label}: all {len(receipts)} report calls failed: " + " | ".join(reasons)[:2000]
        )


def fetch_snapshot(
    client: Any, scope: Scope, landing_root: str | os.PathLike[str], snapshot_day: date | str
) -> dict[str, Any]:
    """Land today's seats (and, for organizations, billing) as ``<scope>/billing/<day>/``.

    Files: ``billing.json`` (the ``/copilot/billing`` object), ``seats.ndjson`` (one seat
    object per line, every page) and ``seats_total.json`` (``{"total_seats", "seat_rows"}``:
    GitHub's count of billed seats beside the rows the listing held).

    Returns:
        A receipt with report ``billing`` (``records`` = seats fetched).
    """
    CopilotApiError = _api_error_type()  # noqa: N806 - an exception class
    day = config.parse_day(snapshot_day, "snapshot_day")
    retries_before = _retries(client)
    notes = []
    try:
        with zone.partition_writer(landing_root, scope, loader.SNAPSHOT_REPORT, day) as writer:
            if scope.type == config.ORGANIZATION:
                try:
                    billing = client.billing(scope)
                    writer.write_bytes(loader.BILLING_FILE, json.dumps(billing).encode())
                except CopilotApiError as exc:  # a metrics-only role may not read billing
                    notes.append(f"billing not fetched: {exc}")
            seats = 0
            listing: dict[str, Any] = {}
            with open(writer.path(loader.SEATS_FILE), "w", encoding="utf-8") as fh:
                for seat in client.seats(scope, listing):
                    fh.write(json.dumps(seat, separators=(",", ":")) + "\n")
                    seats += 1
            totals = {"total_seats": listing.get("total_seats"), "seat_rows": seats}
            writer.write_bytes(loader.SEAT_TOTALS_FILE, json.dumps(totals).encode())
            manifest = writer.commit(200)
    except CopilotApiError as exc:
        return _receipt(
            scope,
            loader.SNAPSHOT_REPORT,
            day,
            FAILED,
            exc.status,
            message=" | ".join([str(exc), *notes]),
            retries=_retries(client) - retries_before,
        )
    return _receipt(
        scope,
        loader.SNAPSHOT_REPORT,
        day,
        LANDED,
        200,
        parts=len(manifest["parts"]),
        nbytes=sum(p["bytes"] for p in manifest["parts"]),
        message=" | ".join(notes) or None,
        retries=_retries(client) - retries_before,
        records=seats,
    )


def fetch_scope_snapshot(
    client: Any, scope: Scope, snapshot_day: date | str, landing_root: str | os.PathLike[str]
) -> list[dict[str, Any]]:
    """:func:`fetch_snapshot` as a list of receipts (what the ingest DAG appends to its receipts)."""
    return [fetch_snapshot(client, scope, landing_root, snapshot_day)]


# --- loading -------------------------------------------------------------------------------------
def _empty_counts() -> dict[str, int]:
    return {
        "days_loaded": 0,
        "records": 0,
        "quarantined": 0,
        "duplicates": 0,
        "no_report": 0,
        "failed": 0,
        "skipped": 0,
        "unavailable": 0,
    }


def load_receipts(
    receipts: Iterable[dict[str, Any]],
    warehouse_path: str | os.PathLike[str] | None,
    landing_root: str | os.PathLike[str],
    *,
    load_id: str | None = None,
    lock_timeout: float = 300.0,
) -> dict[str, Any]:
    """Load every landed partition named by the receipts; log 204s and failures.

    Opens the warehouse once (``warehouse.connect``, waiting at most ``lock_timeout`` seconds
    for another writer). Each partition is its own transaction: one that fails to load is rolled
    back, logged as failed, and the others still load.

    Returns:
        ``{"load_id", "scopes": {"<type>:<name>": {report: {"days_loaded", "records",
        "quarantined", "duplicates", "no_report", "failed"}}}, "partitions": [...],
        "totals": {...}, "errors": [...]}``, JSON-serialisable.

    Raises:
        warehouse.WarehouseLockedError: the warehouse stayed locked.
        IngestError: a landed partition could not be loaded (after loading all the others).
    """
    receipts = list(receipts)
    summary = _new_summary(load_id)
    con = warehouse.connect(warehouse_path, lock_timeout=lock_timeout)
    try:
        with loader.bulk_load(con):
            for r in receipts:
                _load_one(con, r, landing_root, summary)
    finally:
        con.close()
    return finish_summary(summary)


def _new_summary(load_id: str | None) -> dict[str, Any]:
    return {
        "load_id": load_id or loader.new_load_id(),
        "scopes": {},
        "partitions": [],
        "errors": [],
        "unavailable": [],  # one sentence per report not offered for its scope
        "_answered": [],  # (scope label, report) recorded as available in this load
    }


def _record_answered(con: Any, scope: Scope, report: str, http_status: int | None, summary: dict) -> None:
    """Record once per load that a report answered for a scope (it may have been unavailable)."""
    key = [scope.label, report]
    if key in summary["_answered"]:
        return
    summary["_answered"].append(key)
    availability.record(
        con,
        scope,
        report,
        available=True,
        http_status=http_status,
        reason=None,
        checked_day=datetime.now(UTC).date(),
        load_id=summary["load_id"],
    )


def _load_one(con: Any, r: dict[str, Any], landing_root: str | os.PathLike[str], summary: dict) -> None:
    """Load (or log) one receipt into an open warehouse, counting it in ``summary``."""
    load_id = summary["load_id"]
    scope = Scope(r["scope_type"], r["scope_name"])
    report, day_text, status = r["report"], r.get("day"), r["status"]
    counts = summary["scopes"].setdefault(scope.label, {}).setdefault(report, _empty_counts())
    if status in (LANDED, NO_REPORT) and report != LEGACY_REPORT and report != loader.SNAPSHOT_REPORT:
        _record_answered(con, scope, report, r.get("http_status"), summary)
    if status == UNAVAILABLE:
        counts["unavailable"] += 1
        if r.get("report_unavailable"):
            if r.get("checked", True):  # a fresh probe (not a report skipped as known today)
                availability.record(
                    con,
                    scope,
                    report,
                    available=False,
                    http_status=r.get("http_status"),
                    reason=r.get("message"),
                    checked_day=r.get("checked_day") or datetime.now(UTC).date(),
                    load_id=load_id,
                )
            summary["unavailable"].append(
                r.get("message")
                if not r.get("checked", True)
                else f"{scope.label} {report}: not offered for this {scope.type} (HTTP "
                f"{r.get('http_status')}); not fetched day by day, asked again once a day. {r.get('message')}"
            )
        elif day_text:
            loader.record_status(
                con, scope, report, day_text, "skipped", r.get("http_status"), r.get("message"), load_id
            )
        return
    if status == LANDED:
        try:
            if report == LEGACY_REPORT:
                from copilot_warehouse.extract import legacy

                done = legacy.import_landed(con, scope, day_text, landing_root, load_id)
                result = {"records": done["days"], "status": "loaded"}
                result |= {k: done[k] for k in ("quarantined", "duplicates")}
            elif report == loader.SNAPSHOT_REPORT:
                done = loader.load_snapshot_partition(con, scope, day_text, landing_root, load_id)
                result = {
                    "records": done["seats"],
                    "quarantined": 0,
                    "duplicates": 0,
                    "status": "loaded",
                }
            else:
                result = loader.load_partition(
                    con,
                    scope,
                    report,
                    day_text,
                    landing_root,
                    load_id,
                    retries=int(r.get("retries") or 0),
                ).as_dict()
        except loader.LoadError as exc:
            message = redact.exception_text(exc)
            summary["errors"].append(message)
            counts["failed"] += 1
            loader.record_status(
                con, scope, report, day_text, "failed", r.get("http_status"), message, load_id
            )
            log.error("%s", message)
            return
        if result["status"] == "no_report":
            counts["no_report"] += 1
            return
        counts["days_loaded"] += 1
        for key in ("records", "quarantined", "duplicates"):
            counts[key] += int(result[key])
        summary["partitions"].append(
            {
                "scope_type": scope.type,
                "scope_name": scope.name,
                "report": report,
                "day": day_text,
                **{k: result[k] for k in ("records", "quarantined", "duplicates")},
            }
        )
    elif status == RETIRED:
        counts["skipped"] += 1
        loader.record_status(
            con, scope, report, day_text, "skipped", r.get("http_status"), r.get("message"), load_id
        )
    elif status in (NO_REPORT, FAILED):
        counts["no_report" if status == NO_REPORT else "failed"] += 1
        if day_text:  # a 28-day report answering 204 has no day to log against
            loader.record_status(
                con,
                scope,
                report,
                day_text,
                status,
                r.get("http_status"),
                r.get("message"),
                load_id,
                retries=int(r.get("retries") or 0),
            )
    else:
        raise IngestError(f"{scope.label} {report} {day_text}: unknown receipt status {status!r}")


def finish_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Totals, the summary log lines, and IngestError when a partition could not be loaded."""
    summary.pop("_answered", None)
    totals = _empty_counts()
    for reports in summary["scopes"].values():
        for counts in reports.values():
            for key, value in counts.items():
                totals[key] += value
    summary["totals"] = totals
    for line in summary_lines(summary):
        log.info("%s", line)
    if summary["errors"]:
        raise IngestError(
            f"{len(summary['errors'])} partition(s) could not be loaded (the others were): "
            + " | ".join(summary["errors"])[:2000]
        )
    return summary


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Human-readable run summary: one line per scope and report."""
    lines = []
    for scope_label in sorted(summary["scopes"]):
        for report, c in sorted(summary["scopes"][scope_label].items()):
            lines.append(
                f"{scope_label} {report}: {c['days_loaded']} day(s) loaded, {c['records']} records, "
                f"{c['quarantined']} quarantined, {c['duplicates']} duplicates, "
                f"{c['no_report']} without report, {c['failed']} failed"
                + (f", {c['skipped']} skipped" if c.get("skipped") else "")
            )
    lines += summary.get("unavailable") or []
    return lines


def fetch_and_load(
    batches: Iterable[Any],
    fetch_batch: Callable[[Any, threading.Event], Iterable[dict[str, Any]]],
    warehouse_path: str | os.PathLike[str] | None,
    landing_root: str | os.PathLike[str],
    *,
    stream: bool = False,
    lock_timeout: float = 300.0,
    timings: dict[str, float] | None = None,
) -> Iterator[tuple[Any, dict[str, Any], list[dict[str, Any]]]]:
    """The one fetch-and-load path of :func:`run_range` and ``make backfill``, overlapped.

    A background thread calls ``fetch_batch(batch, stop)`` for each batch in turn: it fetches and
    lands (network and landing zone only, e.g. with :func:`fetch_scope_days` or
    :func:`_iter_scope_fetches`) and yields receipts, ending early once ``stop`` is set. This thread
    loads them with :func:`_load_one`, as :func:`load_receipts` does for the DAG's load task (the
    only DuckDB writer). Two ways to overlap downloads and loading:

    - ``stream=False`` (``make backfill``): a batch is loaded once all of it is landed, with the
      warehouse opened for that batch only (downloads never hold the writer), while the next batch
      is fetched (one batch ahead). Yields ``(batch, summary, receipts)`` after each batch.
    - ``stream=True`` (:func:`run_range`): each receipt is loaded as soon as it is landed, with the
      warehouse held open (its write lock taken) for the whole run, so a range takes about as long
      as the slower of fetching and loading. Yields once, ``(None, summary, receipts)``, at the end.

    Summaries are not finished: the caller calls :func:`finish_summary` (after adding its own
    errors). An exception of the fetch thread is raised here (in stream mode once what was landed
    is loaded). ``timings`` gets ``fetch_seconds`` (wall time of the fetch thread) and
    ``load_seconds`` (time spent loading).

    Raises:
        warehouse.WarehouseLockedError: the warehouse stayed locked (fetching stops too).
    """
    started = time.perf_counter()
    timings = timings if timings is not None else {}
    timings.update(fetch_seconds=0.0, load_seconds=0.0)
    landed: queue.Queue = queue.Queue()  # unbounded: in stream mode the fetch thread never waits
    ahead = threading.Semaphore(1)  # batch mode: the next batch starts once this one is taken
    stop = threading.Event()
    done = object()

    def fetch_all() -> None:
        try:
            for batch in batches:
                if not stream:
                    ahead.acquire()
                if stop.is_set():
                    return
                if stream:
                    for receipt in fetch_batch(batch, stop):
                        landed.put(receipt)
                else:
                    landed.put((batch, list(fetch_batch(batch, stop))))
        except BaseException as exc:  # handed to the loading thread, raised there
            landed.put(exc)
        finally:
            timings["fetch_seconds"] = time.perf_counter() - started
            landed.put(done)

    fetcher = threading.Thread(target=fetch_all, name="copilot-fetch", daemon=True)
    fetcher.start()
    try:
        if stream:
            summary = _new_summary(None)
            receipts: list[dict[str, Any]] = []
            failure: BaseException | None = None
            con = warehouse.connect(warehouse_path, lock_timeout=lock_timeout)
            try:
                with loader.bulk_load(con):
                    while (item := landed.get()) is not done:
                        if isinstance(item, BaseException):
                            failure = failure or item
                            continue
                        receipts.append(item)
                        t0 = time.perf_counter()
                        _load_one(con, item, landing_root, summary)
                        timings["load_seconds"] += time.perf_counter() - t0
            finally:
                con.close()
            if failure is not None:
                raise failure
            yield None, summary, receipts
            return
        while (item := landed.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            batch, receipts = item
            ahead.release()  # the next batch downloads while this one loads
            summary = _new_summary(None)
            t0 = time.perf_counter()
            con = warehouse.connect(warehouse_path, lock_timeout=lock_timeout)
            try:
                with loader.bulk_load(con):
                    for receipt in receipts:
                        _load_one(con, receipt, landing_root, summary)
            finally:
                con.close()
            timings["load_seconds"] += time.perf_counter() - t0
            yield batch, summary, receipts
    finally:
        stop.set()
        ahead.release()  # a fetch thread waiting for its turn sees the stop
        fetcher.join()


def run_range(
    client: Any,
    scopes: Iterable[Scope],
    days: Iterable[date | str],
    landing_root: str | os.PathLike[str],
    warehouse_path: str | os.PathLike[str] | None,
    *,
    reports: Iterable[str] | None = None,
    snapshot_day: date | str | None = None,
    latest_28_day: bool = False,
    lock_timeout: float = 300.0,
    skip_reports: dict[Scope, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Fetch every scope's days into the landing zone and load them (one writer), overlapped.

    :func:`fetch_and_load` in stream mode: a fetch thread lands partitions (network only, every
    scope's (report, day) units up to the client's ``max_connections`` at a time) while
    this thread loads each one as soon as it is landed, so a backfill takes about as long as the
    slower of the two, not their sum; the warehouse is therefore held open (its write lock taken)
    for the whole run. A scope whose every call failed is reported in the summary's ``errors`` and
    the others go on.

    Args:
        snapshot_day: also land and load the seats/billing snapshot for this day.
        latest_28_day: also fetch the ``*-28-day/latest`` reports.
        lock_timeout: seconds to wait for the warehouse's write lock.
        skip_reports: per scope, ``{report: reason}`` found unavailable today already.

    Returns:
        The :func:`load_receipts` summary plus ``receipts`` (count per status), ``fetch_seconds``
        (wall time of the fetch thread), ``load_seconds`` (time spent loading), ``seconds`` and,
        for a ``CopilotClient``, ``max_connections`` and ``requests`` (the run's per-request retry
        accounting, :func:`request_accounting`).

    Raises:
        warehouse.WarehouseLockedError: the warehouse stayed locked (fetching stops too).
    """
    started = time.perf_counter()
    before = request_accounting(client)
    day_list = sorted({config.parse_day(d) for d in days})
    report_list = list(reports) if reports is not None else None
    fetch_errors: list[str] = []

    def fetch_scopes(scope_list: list[Scope], stop: threading.Event) -> Iterator[dict[str, Any]]:
        # every scope's (report, day) units under one bound (the client's max_connections)
        plan = [
            (scope, day_list, list(report_list or config.DAILY_REPORTS[scope.type]), skips.get(scope, {}))
            for scope in scope_list
        ]
        by_scope: dict[Scope, list[dict[str, Any]]] = {scope: [] for scope in scope_list}
        for receipt in _fetch_units(client, plan, landing_root, stop):
            by_scope[Scope(receipt["scope_type"], receipt["scope_name"])].append(receipt)
            yield receipt
        for scope in scope_list:
            if stop.is_set():
                return
            skip = skips.get(scope, {})
            for report, reason in sorted(skip.items()):
                yield _skipped_receipt(scope, report, reason)
            if latest_28_day:
                for receipt in fetch_latest_28_day(client, scope, landing_root, skip_reports=skip):
                    by_scope[scope].append(receipt)
                    yield receipt
            try:
                _raise_if_all_failed(scope, by_scope[scope])
            except IngestError as exc:
                fetch_errors.append(str(exc))
                log.error("%s", exc)
            if snapshot_day is not None and not stop.is_set():
                yield fetch_snapshot(client, scope, landing_root, snapshot_day)

    timings: dict[str, float] = {}
    skips = skip_reports or {}
    [(_, summary, receipts)] = fetch_and_load(  # stream mode: one summary, at the end
        [list(scopes)],  # one batch: all scopes' units share the client's bound
        fetch_scopes,
        warehouse_path,
        landing_root,
        stream=True,
        lock_timeout=lock_timeout,
        timings=timings,
    )
    by_status: dict[str, int] = {}
    for r in receipts:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    try:
        summary = finish_summary(summary)
    except IngestError as exc:
        if not fetch_errors:
            raise
        # the scopes that could not be fetched at all belong in the same message
        raise IngestError(f"{exc} | also: " + " | ".join(fetch_errors)[:1000]) from None
    summary["receipts"] = by_status
    summary["errors"] = fetch_errors + summary["errors"]
    accounting = request_accounting(client, before)
    if accounting is not None:
        from copilot_warehouse.extract.client import describe_requests

        summary["max_connections"] = max_connections(client)
        summary["requests"] = accounting
        log.info("GitHub: %s, at most %d at a time", describe_requests(accounting), max_connections(client))
    summary["fetch_seconds"] = round(timings["fetch_seconds"], 3)
    summary["load_seconds"] = round(timings["load_seconds"], 3)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return summary


def landed_receipts(
    landing_root: str | os.PathLike[str], scope: Scope | None = None, report: str | None = None
) -> list[dict[str, Any]]:
    """Receipts for partitions already in the landing zone (to reload them without fetching)."""
    out = []
    for ref in zone.list_partitions(landing_root, scope, report):
        manifest = zone.read_manifest(landing_root, ref.scope, ref.report, ref.day) or {}
        status = NO_REPORT if manifest.get("http_status") == 204 else LANDED
        out.append(
            _receipt(
                ref.scope,
                ref.report,
                ref.day,
                status,
                manifest.get("http_status"),
                parts=len(manifest.get("parts", [])),
            )
        )
    return out


__all__ = [
    "IngestError",
    "fetch_and_load",
    "fetch_latest_28_day",
    "fetch_report",
    "fetch_scope_days",
    "fetch_scope_snapshot",
    "fetch_scopes_days",
    "fetch_snapshot",
    "finish_summary",
    "landed_receipts",
    "request_accounting",
    "load_receipts",
    "max_connections",
    "run_range",
    "summary_lines",
]
