"""``make backfill``: fetch, land and load a range of days without a scheduler, then transform.

:func:`backfill_range` does the ingest DAG's work in chunks of days (through
:func:`~copilot_warehouse.pipeline.ingest.fetch_and_load`, built from the DAG tasks' pieces),
then :func:`transform_warehouse` runs ``dbt build`` and writes the report, as the transform DAG
does. A long range needs no scheduler; it is safe to interrupt and to re-run (every partition is
replaced in one transaction).

``python -m copilot_warehouse backfill`` reads the GitHub API from ``AIRFLOW_CONN_GITHUB_COPILOT``
(JSON or URI form) and the scopes from ``AIRFLOW_VAR_COPILOT_ORGS`` /
``AIRFLOW_VAR_COPILOT_ENTERPRISES``; ``START_DAY`` / ``END_DAY`` choose the range,
``COPILOT_WAREHOUSE_PATH`` / ``COPILOT_LANDING_PATH`` where data goes. ``make backfill`` goes
through ``python -m copilot_dev backfill``, which starts the bundled simulator when no Connection is
configured and then calls :func:`backfill` here. Nothing here reads input or prints the token.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from copilot_warehouse import config
from copilot_warehouse.pipeline import schedule
from copilot_warehouse.serve.summary import print_summary
from copilot_warehouse.transform import quality

ENV_CONN = "AIRFLOW_CONN_GITHUB_COPILOT"
ENV_ORGS = "AIRFLOW_VAR_COPILOT_ORGS"
ENV_ENTERPRISES = "AIRFLOW_VAR_COPILOT_ENTERPRISES"
DEFAULT_REAL_RANGE_DAYS = 28
DEFAULT_CHUNK_DAYS = 7


class PipelineError(RuntimeError):
    """A step of ``make run``/``make backfill`` failed; the message says which and where to look."""


class NothingLoadedError(PipelineError):
    """No scope loaded anything (a wrong token, a policy turned off): the message is one line."""


@dataclass
class Source:
    """Where data comes from: the simulator or the real API, with the scopes and default range."""

    connection: str = field(repr=False)
    orgs: list[str]
    enterprises: list[str]
    start: date
    end: date
    label: str
    simulator_last_day: date | None = None  # the bundled simulator's last day; None for real GitHub

    @property
    def scopes(self) -> list[config.Scope]:
        return schedule.parse_scopes(json.dumps(self.orgs), json.dumps(self.enterprises))


def env_day(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def source_range(start: object, end: object, default_start: date, default_end: date) -> tuple[date, date]:
    """The inclusive range asked for (``start``/``end``), else the source's default range."""
    days = schedule.manual_days(start or default_start, end or (start if start else default_end))
    return days[0], days[-1]


@contextlib.contextmanager
def configured_source(start_day: str | None = None, end_day: str | None = None) -> Iterator[Source]:
    """The GitHub API of ``AIRFLOW_CONN_GITHUB_COPILOT`` with the scopes of the Variables.

    Args:
        start_day: first day (default ``START_DAY`` env, else 28 days before the newest day).
        end_day: last day (default ``END_DAY`` env, else today minus the publishing lag).

    Raises:
        config.ConfigError: no Connection is configured, or the Variables are malformed.
    """
    start_day = start_day or env_day("START_DAY")
    end_day = end_day or env_day("END_DAY")
    if not os.environ.get(ENV_CONN, "").strip():
        raise config.ConfigError(
            f"{ENV_CONN} is not set: set it to the GitHub API Connection (docs/deployment.md), "
            "or run `make backfill`, which uses the bundled simulator without it"
        )
    scopes = schedule.parse_scopes(os.environ.get(ENV_ORGS), os.environ.get(ENV_ENTERPRISES))
    newest = datetime.now(UTC).date() - timedelta(days=config.PUBLISH_LAG_DAYS)
    oldest = newest - timedelta(days=DEFAULT_REAL_RANGE_DAYS - 1)
    start, end = source_range(start_day, end_day, oldest, newest)
    yield Source(
        connection=os.environ[ENV_CONN],
        orgs=[s.name for s in scopes if s.type == config.ORGANIZATION],
        enterprises=[s.name for s in scopes if s.type == config.ENTERPRISE],
        start=start,
        end=end,
        label=f"the GitHub API of {ENV_CONN}",
    )


def _say(text: str) -> None:
    print(text, flush=True)


def client_for(source: Source):
    """A ``CopilotClient`` for the source's Connection, built by the project's Airflow hook.

    The product imports from ``plugins/`` (``copilot_airflow.hooks``) only here and in
    :func:`backfill` (whose quiet mode imports it first: Airflow configures logging on import):
    the hook reads the Connection exactly as the DAG tasks do (JSON or URI form, extra settings,
    token masking).
    """
    os.environ[ENV_CONN] = source.connection  # the hook reads it; this process only
    from copilot_airflow.hooks import GitHubCopilotHook

    return GitHubCopilotHook().get_conn()


def _chunks(days: list[date], size: int) -> list[list[date]]:
    return [days[i : i + size] for i in range(0, len(days), size)]


def backfill_range(
    source: Source,
    *,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
    warehouse: str | Path | None = None,
    landing_root: str | None = None,
    transform: bool = True,
    today: date | None = None,
) -> dict:
    """Fetch, land and load ``source.start..source.end`` in chunks of days, then transform.

    Each (scope, report, day) is asked for once. Chunks go newest first, so a report GitHub does
    not offer for a scope is found on its newest day and not asked for in any other chunk (nor
    at all when a run already found it unavailable today). While one chunk loads (the only DuckDB
    writer), the next chunk downloads in a background thread, so downloads never hold the writer
    (:func:`~copilot_warehouse.pipeline.ingest.fetch_and_load`, the path ``run_range`` uses too).
    Every partition is replaced in its own transaction: stopping at any point loses nothing
    already loaded, and running again completes the range.

    Args:
        source: where to fetch from, the scopes and the inclusive range.
        chunk_days: days fetched and loaded together.
        warehouse: DuckDB file (default ``config.warehouse_path()``).
        landing_root: landing zone root (default ``config.landing_path()``).
        transform: run ``dbt build`` and the report at the end.
        today: the UTC day of the run (default: now): the seats snapshot day and the reference
            for GitHub's history window.

    Every request to GitHub goes through one client, so ``COPILOT_MAX_CONNECTIONS`` (or the
    Connection's extra ``max_connections``) bounds them all: a chunk's (scope, report, day) units
    download up to that many at a time (:func:`~copilot_warehouse.pipeline.ingest.fetch_scopes_days`).

    Returns:
        ``{"chunks", "partitions", "records", "failed", "no_report", "skipped_scopes",
        "unavailable_reports", "seconds", "max_connections", "requests"}`` (``requests``: the
        client's per-request retry accounting, :func:`~copilot_warehouse.extract.client.request_accounting`).

    Raises:
        NothingLoadedError: every scope was skipped (after the transform built empty marts).
        PipelineError: a chunk failed to load or dbt build failed.
    """
    from copilot_warehouse import warehouse as wh
    from copilot_warehouse.extract import availability
    from copilot_warehouse.extract.client import describe_requests
    from copilot_warehouse.pipeline import ingest

    warehouse = str(warehouse or config.warehouse_path())
    landing_root = landing_root or config.landing_path()
    today = today or datetime.now(UTC).date()
    started = time.perf_counter()
    probe = client_for(source)
    scopes: list[config.Scope] = []
    skipped: dict[str, str] = {}
    for scope in source.scopes:
        check = probe.check_availability(scope)
        if check.available:
            scopes.append(scope)
        else:
            skipped[scope.label] = check.reason
            _say(f"  {scope.label}: skipped - {check.reason}")
    wh.initialize(warehouse, say=_say)  # the raw schema exists even if nothing loads
    wanted = config.day_range(source.start, source.end)
    days_by_scope = {s: set(schedule.clip_days(s, wanted, today).days) for s in scopes}
    chunks = _chunks(wanted, max(1, chunk_days))[::-1]  # newest first: see the docstring
    states = availability.latest_states(warehouse, scopes)
    probe_day = datetime.now(UTC).date()
    skip = {s: availability.reports_to_skip(states, s, probe_day) for s in scopes}
    unavailable: list[str] = [line for reasons in skip.values() for line in reasons.values()]
    for line in unavailable:
        _say(f"  {line}")

    client = probe  # one client, so COPILOT_MAX_CONNECTIONS bounds every request of the backfill
    chunk_requests: dict[int, dict] = {}

    def fetch_chunk(batch: tuple[int, list[date]], stop) -> list[dict]:
        index, chunk = batch
        before = ingest.request_accounting(client)
        days = {s: [d for d in chunk if d in days_by_scope[s]] for s in scopes}
        # every (scope, report, day) of the chunk, up to max_connections at a time
        by_scope, errors = ingest.fetch_scopes_days(
            client, {s: d for s, d in days.items() if d}, landing_root, skip_reports=skip, stop=stop
        )
        for error in errors:  # every call of a scope failed: said, the other scopes go on
            _say(f"  {error}")
        # reports skipped as known are said once, above
        receipts = [r for s in scopes for r in by_scope.get(s, []) if r.get("checked", True)]
        for r in receipts:  # found unavailable on its newest day: not asked for in later chunks
            if r["status"] == ingest.UNAVAILABLE and r.get("report_unavailable"):
                scope = config.Scope(r["scope_type"], r["scope_name"])
                skip[scope][r["report"]] = r.get("message") or "not offered"
        if index == len(chunks) - 1:  # once, like a DAG run: today's seats/billing, 28-day reports
            for scope in scopes:
                receipts += ingest.fetch_scope_snapshot(client, scope, today, landing_root)
                receipts += ingest.fetch_latest_28_day(client, scope, landing_root, skip_reports=skip[scope])
        chunk_requests[index] = ingest.request_accounting(client, before)
        return receipts

    totals = {"partitions": 0, "records": 0, "failed": 0, "no_report": 0}
    # ingest.fetch_and_load in batch mode: the next chunk downloads while this one loads
    loaded = ingest.fetch_and_load(list(enumerate(chunks)), fetch_chunk, warehouse, landing_root)
    with contextlib.closing(loaded):
        for index, chunk in enumerate(chunks):
            try:
                _, summary, _ = next(loaded)
                summary = ingest.finish_summary(summary)
            except ingest.IngestError as exc:
                raise PipelineError(f"chunk {chunk[0]}..{chunk[-1]}: {exc}") from None
            t = summary["totals"]
            for line in summary.get("unavailable") or []:
                _say(f"  {line}")
                unavailable.append(line)
            totals["partitions"] += t["days_loaded"]
            totals["records"] += t["records"]
            totals["failed"] += t["failed"]
            totals["no_report"] += t["no_report"]
            _say(
                f"  chunk {index + 1}/{len(chunks)} {chunk[0]}..{chunk[-1]}: {t['days_loaded']} partitions, "
                f"{t['records']} records, {t['no_report']} without report, {t['failed']} failed; "
                f"GitHub: {describe_requests(chunk_requests.get(index) or {})}"
            )
    if transform:
        transform_warehouse(warehouse)
    if skipped and not scopes:
        not_loaded = [f"{label}: skipped - {reason}" for label, reason in skipped.items()]
        raise NothingLoadedError(schedule.nothing_loaded_line(not_loaded))
    totals |= {
        "chunks": len(chunks),
        "max_connections": client.max_connections,
        "requests": ingest.request_accounting(client),
        "skipped_scopes": skipped,
        "unavailable_reports": unavailable,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return totals


def transform_warehouse(warehouse: str | Path) -> Path:
    """``dbt build`` then the HTML report; raises on dbt failure."""
    from copilot_warehouse.transform import dbt_runner

    # as the transform DAG does; quiet: the summary below names every failed or warned node
    result = dbt_runner.build(warehouse, exclude="test_type:unit", quiet=True)
    for line in (result.summary or "dbt build finished").splitlines():
        _say(f"  {line}")
    if not result.success:
        raise PipelineError(f"dbt build failed:\n{result.summary}")
    for line in quality.anomaly_lines(warehouse):
        _say(f"  {quality.LINE_PREFIX}{line}")
    from copilot_warehouse.serve.report import build_report

    path = build_report(warehouse, Path(warehouse).parent / "report")
    _say(f"  report written to {path}")
    return path


def backfill(
    argv: list[str],
    *,
    open_source: Callable[[str | None, str | None], AbstractContextManager[Source]] = configured_source,
    prog: str = "python -m copilot_warehouse backfill",
) -> int:
    """``make backfill START_DAY=… END_DAY=…``: fetch, land and load a range in chunks, then transform."""
    # open_source(start_day, end_day) gives the source: the configured Connection here; for
    # `make backfill`, copilot_dev.run.open_source (the simulator unless a Connection is set).
    parser = argparse.ArgumentParser(prog=prog, description=backfill.__doc__)
    parser.add_argument("--start-day", default=None, help="first report day, YYYY-MM-DD (or START_DAY)")
    parser.add_argument("--end-day", default=None, help="last report day, YYYY-MM-DD (or END_DAY)")
    parser.add_argument(
        "--chunk-days", type=int, default=DEFAULT_CHUNK_DAYS, help="days per load (default 7)"
    )
    parser.add_argument("--no-transform", action="store_true", help="load raw only; skip dbt and the report")
    parser.add_argument(
        "--verbose", action="store_true", help="log every report call and download (default: warnings)"
    )
    args = parser.parse_args(argv)
    config.check_settings()  # a malformed setting stops here, before any work
    if not args.verbose:  # the chunk lines below say what happened; details only on request
        # Airflow's own loggers (the hook's) follow Airflow's level, read when Airflow is imported
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
        import copilot_airflow.hooks  # noqa: F401 - Airflow configures logging on import

        for name in ("copilot_warehouse", "airflow.task.hooks"):
            logging.getLogger(name).setLevel(logging.WARNING)
    start = args.start_day or env_day("START_DAY")
    if not start:
        raise config.ConfigError(
            "backfill needs a range: make backfill START_DAY=YYYY-MM-DD END_DAY=YYYY-MM-DD"
        )
    with open_source(start, args.end_day or env_day("END_DAY")) as source:
        _say(f"Source: {source.label}")
        _say(f"Backfill {source.start}..{source.end} in chunks of {args.chunk_days} day(s)")
        try:
            totals = backfill_range(source, chunk_days=args.chunk_days, transform=not args.no_transform)
        except KeyboardInterrupt:
            _say("interrupted: partitions loaded so far are kept; run the same command again to finish")
            return 130
    from copilot_warehouse.extract.client import describe_requests

    _say(
        f"Backfill done in {totals['seconds']}s: {totals['partitions']} partitions, {totals['records']} "
        f"records, {totals['no_report']} without report, {totals['failed']} failed; GitHub: "
        f"{describe_requests(totals['requests'] or {})}, at most {totals['max_connections']} at a time"
    )
    code = print_summary() if not args.no_transform else 0
    return 1 if totals["failed"] else code


def cli(command: str, argv: list[str]) -> int:
    """Entry point of ``python -m copilot_warehouse backfill``."""
    try:
        if command == "backfill":
            return backfill(argv)
    except (PipelineError, config.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2
