"""``make run``, ``make backfill`` and the marts summary: the pipeline end to end from one command.

``run`` drives the real DAGs with ``airflow dags test`` (no scheduler needed): the ingest DAG for a
range of days, then the transform DAG (dbt build + report), then prints rows per mart and the latest
weekly acceptance rate per org. ``backfill`` does the same work without Airflow, in chunks of days,
so a long range needs no scheduler; it is safe to interrupt and to re-run (every partition is
replaced in one transaction). ``summary`` only prints.

Offline by default: without ``AIRFLOW_CONN_GITHUB_COPILOT`` the bundled simulator is started on
127.0.0.1 and used as the GitHub API. With it set (JSON or URI form), the real API is used with the
orgs of ``AIRFLOW_VAR_COPILOT_ORGS`` (and ``AIRFLOW_VAR_COPILOT_ENTERPRISES``). ``START_DAY`` /
``END_DAY`` choose the range; ``COPILOT_WAREHOUSE_PATH`` / ``COPILOT_LANDING_PATH`` where data goes.
Nothing here reads input or prints the token.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from copilot_warehouse import config
from copilot_warehouse.pipeline import schedule
from copilot_warehouse.transform import quality

from copilot_dev import airflow_env

ENV_CONN = "AIRFLOW_CONN_GITHUB_COPILOT"
ENV_ORGS = "AIRFLOW_VAR_COPILOT_ORGS"
ENV_ENTERPRISES = "AIRFLOW_VAR_COPILOT_ENTERPRISES"
ENV_MESSY = "COPILOT_SIMULATOR_MESSY"  # 1: the simulator serves the odd shapes of real GitHub data
DEFAULT_REAL_RANGE_DAYS = 28
DEFAULT_CHUNK_DAYS = 7
# Lines of `airflow dags test` output worth showing on the console (the rest goes to a log file).
_ECHO_MARKERS = (
    " day(s) requested",
    ": skipped - ",
    ": no result - ",
    ": not offered for this ",
    "source anomaly: ",
    " scope(s) loaded",
    "newest report day",
    "dbt build:",
    "report written to",
    "ALERT:",
    "Task failed with exception",
    "AirflowFailException",
    "IngestError",
    "ConfigError",
)


class DemoError(RuntimeError):
    """A step of ``make run``/``make backfill`` failed; the message says which and where to look."""


class NothingLoadedError(DemoError):
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


def _env_day(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _range(start: object, end: object, default_start: date, default_end: date) -> tuple[date, date]:
    days = schedule.manual_days(start or default_start, end or (start if start else default_end))
    return days[0], days[-1]


@contextlib.contextmanager
def open_source(start_day: str | None = None, end_day: str | None = None) -> Iterator[Source]:
    """The real API when ``AIRFLOW_CONN_GITHUB_COPILOT`` is set, else a simulator started here.

    Args:
        start_day: first day (default ``START_DAY`` env, else the simulator's first day or 28 days ago).
        end_day: last day (default ``END_DAY`` env, else the simulator's last day or today minus the lag).
    """
    start_day = start_day or _env_day("START_DAY")
    end_day = end_day or _env_day("END_DAY")
    if os.environ.get(ENV_CONN, "").strip():
        scopes = schedule.parse_scopes(os.environ.get(ENV_ORGS), os.environ.get(ENV_ENTERPRISES))
        newest = datetime.now(UTC).date() - timedelta(days=config.PUBLISH_LAG_DAYS)
        start, end = _range(start_day, end_day, newest - timedelta(days=DEFAULT_REAL_RANGE_DAYS - 1), newest)
        yield Source(
            connection=os.environ[ENV_CONN],
            orgs=[s.name for s in scopes if s.type == config.ORGANIZATION],
            enterprises=[s.name for s in scopes if s.type == config.ENTERPRISE],
            start=start,
            end=end,
            label=f"the GitHub API of {ENV_CONN}",
        )
        return
    from copilot_dev.simulator import SimulatorServer

    sim_config, scopes = simulator_config()
    start, end = _range(start_day, end_day, sim_config.start_day, sim_config.end_day)
    with SimulatorServer(sim_config) as server:
        yield Source(
            connection=airflow_env.connection_json(server.url, sim_config.token),
            orgs=[s.name for s in scopes if s.type == config.ORGANIZATION],
            enterprises=[s.name for s in scopes if s.type == config.ENTERPRISE],
            start=start,
            end=end,
            label=f"the bundled simulator at {server.url} (set {ENV_CONN} for the real API)",
            simulator_last_day=sim_config.end_day,
        )


def simulator_config():
    """The simulator ``make run`` starts: its defaults, or the scopes the Variables name.

    ``AIRFLOW_VAR_COPILOT_ORGS`` / ``AIRFLOW_VAR_COPILOT_ENTERPRISES``, when set, choose the
    scopes the simulator serves (e.g. one org), validated as the DAG validates them (an empty
    list is a clear error before any work). ``COPILOT_SIMULATOR_MESSY=1`` turns on the
    simulator's messy mode (restated days, renamed logins, odd seat rows, inconsistent active
    counts, a report not offered, empty answers, late aggregates).

    Returns:
        ``(SimulatorConfig, scopes the pipeline is configured with)``. With enterprises only, the
        simulator keeps its default organizations as the enterprises' members (an enterprise
        without organizations would have no data), and the pipeline fetches the enterprises only.

    Raises:
        config.ConfigError: the Variables are malformed or name no scope.
    """
    import dataclasses

    from copilot_dev.simulator import SimulatorConfig

    sim_config = SimulatorConfig(messy=os.environ.get(ENV_MESSY, "").strip().lower() in {"1", "true", "yes"})
    if os.environ.get(ENV_ORGS) is not None or os.environ.get(ENV_ENTERPRISES) is not None:
        scopes = schedule.parse_scopes(os.environ.get(ENV_ORGS), os.environ.get(ENV_ENTERPRISES))
        orgs = tuple(s.name for s in scopes if s.type == config.ORGANIZATION)
        sim_config = dataclasses.replace(
            sim_config,
            orgs=orgs or sim_config.orgs,
            enterprises=tuple(s.name for s in scopes if s.type == config.ENTERPRISE),
        )
        return sim_config, scopes
    defaults = schedule.parse_scopes(
        json.dumps(list(sim_config.orgs)), json.dumps(list(sim_config.enterprises))
    )
    return sim_config, defaults


def _say(text: str) -> None:
    print(text, flush=True)


def run_dag(env: dict[str, str], dag_id: str, conf: dict | None = None, log_dir: Path | None = None) -> float:
    """``airflow dags test <dag_id> [-c conf]``; echo the summary lines, keep the full log in a file.

    Returns:
        Seconds it took.

    Raises:
        DemoError: the DAG run failed (the message names the log file and shows its tail).
    """
    log_dir = log_dir or Path(env["AIRFLOW_HOME"]) / "logs" / "make-run"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}.log"
    args = [airflow_env.airflow_executable(), "dags", "test", dag_id]
    if conf:
        args += ["-c", json.dumps(conf)]
    started = time.perf_counter()
    tail: list[str] = []
    echoed: set[str] = set()
    with open(log_path, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log_file.write(line)
            tail = (tail + [line.rstrip()])[-40:]
            if (
                any(marker in line for marker in _ECHO_MARKERS)
                and "Returned value was" not in line
                and not line.lstrip().startswith(("raise ", "File "))  # traceback lines
                and schedule.NOTHING_LOADED not in line  # said once, as the last line
            ):
                text = line.rstrip()
                # structlog lines: "<ts> [level] message [logger] loc=..." -> keep the message
                if "] " in text and text[:4].isdigit():
                    text = text.split("] ", 1)[1].rsplit(" [", 1)[0].rstrip()
                if text not in echoed:  # the same line often arrives via print and via logging
                    echoed.add(text)
                    _say(f"    {text}")
        code = proc.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        nothing = _nothing_loaded_line(log_path)
        if nothing:
            raise NothingLoadedError(nothing)
        raise DemoError(
            f"the DAG {dag_id} failed (exit {code}); full log: {log_path}\n--- last lines ---\n"
            + "\n".join(tail[-25:])
        )
    return elapsed


def _nothing_loaded_line(log_path: Path) -> str | None:
    """The ingest run's "nothing was loaded: ..." line, if that is why it failed."""
    marker = f"{schedule.NOTHING_LOADED}: "
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if marker in line:
                text = line[line.index(marker) :].rstrip()
                return text.split(" [", 1)[0] if text.endswith("]") else text
    return None


def _mart_counts(con) -> list[tuple[str, int]]:
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()
    return [(t, con.execute(f'select count(*) from marts."{t}"').fetchall()[0][0]) for (t,) in tables]


# Columns that record *when* something was loaded or built; they differ between identical runs.
VOLATILE_COLUMN = re.compile(
    r"(loaded_at|load_id|built_at|fetched_at|_run_at|generated_at|finished_at|attempt_at)$"
)


def snapshot_marts(warehouse: str | Path) -> dict[str, list[tuple]]:
    """Every mart's rows (sorted, without load/build timestamps): to compare two warehouses or runs."""
    from copilot_warehouse import warehouse as wh

    con = wh.connect(warehouse, read_only=True)
    try:
        out = {}
        for table, _ in _mart_counts(con):
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if not VOLATILE_COLUMN.search(c)
            ]
            rows = con.execute(
                f'select {", ".join(chr(34) + c + chr(34) for c in cols)} from marts."{table}"'
            )
            out[table] = sorted(rows.fetchall(), key=repr)
        return out
    finally:
        con.close()


def latest_weekly_acceptance(con) -> list[tuple]:
    """Latest ISO week per scope.

    Returns:
        ``(label, week_start, days_with_data, acceptances, generations, rate, lines_rate)`` per
        scope: ``rate`` is acceptances / generations, ``lines_rate`` code completion lines
        accepted / suggested (0-1; None without suggested lines, or for a warehouse built before
        the column existed).
    """
    columns = {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_copilot_acceptance_weekly'"
        ).fetchall()
    }
    lines_rate = (
        "completion_loc_acceptance_rate"
        if "completion_loc_acceptance_rate" in columns
        else "cast(null as double)"
    )
    return con.execute(
        f"""
        select scope_type || ':' || scope_name, week_start, days_with_data, code_acceptances,
               code_generations, acceptance_rate, {lines_rate}
        from marts.fct_copilot_acceptance_weekly
        qualify row_number() over (partition by scope_type, scope_name order by week_start desc) = 1
        order by scope_type desc, scope_name
        """
    ).fetchall()


def print_summary(warehouse: str | Path | None = None, scopes: list[config.Scope] | None = None) -> int:
    """Print rows per mart, the latest weekly acceptance rate per scope and the report path.

    Args:
        warehouse: the DuckDB file (default ``config.warehouse_path()``).
        scopes: the scopes this run was configured with; others in the warehouse (kept from
            earlier runs) are marked as such.
    """
    from copilot_warehouse import warehouse as wh

    path = Path(warehouse or config.warehouse_path())
    if not path.exists():
        _say(f"no warehouse at {path}: run `make run` first")
        return 1
    con = wh.connect(path, read_only=True)
    try:
        counts = _mart_counts(con)
        if not counts:
            _say(f"{path} has no marts yet: the transform (dbt build) has not run")
            return 1
        _say(f"\nWarehouse {path}")
        _say("Rows per mart:")
        for table, n in counts:
            _say(f"  marts.{table:<40} {n:>8}")
        if any(t == "fct_copilot_acceptance_weekly" for t, _ in counts):
            rows = latest_weekly_acceptance(con)
            if not rows:
                _say("No weekly acceptance rate yet: no scope has a loaded day.")
            else:
                _say(
                    "Latest weekly acceptance rate per scope (acceptances / generations, ISO week; "
                    "by lines: code completion lines accepted / suggested):"
                )
            current = {s.label for s in scopes} if scopes is not None else None
            earlier = []
            for label, week, days, acc, gen, rate, lines_rate in rows:
                shown = f"{rate:.1%}" if rate is not None else "n/a"
                by_lines = f"{lines_rate:.1%}" if lines_rate is not None else "n/a"
                mark = ""
                if current is not None and label not in current:
                    mark = "  (from an earlier run)"
                    earlier.append(label)
                _say(
                    f"  {label:<36} week of {week}  {shown:>6}  ({acc}/{gen}, {days} day(s) of data)"
                    f"  by lines {by_lines}{mark}"
                )
            if earlier:
                _say(
                    "  The warehouse keeps every scope loaded before; `make clean` starts afresh "
                    "(or set COPILOT_WAREHOUSE_PATH)."
                )
    finally:
        con.close()
    report = path.parent / "report" / "index.html"
    if report.exists():
        _say(f"Report: {report}")
    return 0


def _prepared_env(source: Source) -> dict[str, str]:
    env = airflow_env.build_env(
        connection=source.connection, orgs=source.orgs, enterprises=source.enterprises
    )
    # `dags test` waits out retry delays; a local run should not sit for minutes on a retry.
    env.setdefault("COPILOT_TASK_RETRY_DELAY_SECONDS", "5")
    # The freshness check says where the simulator's data ends instead of calling it stale.
    if source.simulator_last_day is not None:
        env[config.ENV_SIMULATOR_LAST_DAY] = source.simulator_last_day.isoformat()
    else:
        env.pop(config.ENV_SIMULATOR_LAST_DAY, None)
    airflow_env.prepare(env)
    return env


def run_pipeline(env: dict[str, str], start: date, end: date, log_dir: Path | None = None) -> None:
    """Both DAGs through ``airflow dags test``: ingest ``start..end``, then the transform.

    The transform runs even when the ingest loaded nothing, so the marts exist (empty) and say so.

    Raises:
        NothingLoadedError: no scope loaded anything (after the transform ran); one line.
        DemoError: a DAG run failed for another reason (the message names its log file).
    """
    _say("[1/2] airflow dags test copilot_usage_ingest")
    nothing_loaded: NothingLoadedError | None = None
    try:
        t = run_dag(
            env,
            "copilot_usage_ingest",
            {"start_day": start.isoformat(), "end_day": end.isoformat()},
            log_dir=log_dir,
        )
        _say(f"      done in {t:.1f}s")
    except NothingLoadedError as exc:
        nothing_loaded = exc  # the marts are still built (empty): the transform runs anyway
        _say("      the run loaded nothing (see the last line)")
    _say("[2/2] airflow dags test copilot_usage_transform")
    t = run_dag(env, "copilot_usage_transform", log_dir=log_dir)
    _say(f"      done in {t:.1f}s")
    if nothing_loaded is not None:
        raise nothing_loaded


def run(argv: list[str]) -> int:
    """``make run``: both DAGs through ``airflow dags test`` for the source's range, then the summary."""
    parser = argparse.ArgumentParser(prog="python -m copilot_warehouse run", description=run.__doc__)
    parser.add_argument("--start-day", help="first report day (default START_DAY or the whole source range)")
    parser.add_argument("--end-day", help="last report day (default END_DAY)")
    args = parser.parse_args(argv)
    config.price_per_ai_credit_usd()  # a malformed price stops here, before any work
    started = time.perf_counter()
    nothing_loaded: NothingLoadedError | None = None
    with open_source(args.start_day, args.end_day) as source:
        _say(f"Source: {source.label}")
        _say(f"Scopes: {', '.join(s.label for s in source.scopes)}; days {source.start}..{source.end}")
        env = _prepared_env(source)
        _say(f"Warehouse: {env[config.ENV_WAREHOUSE]}  landing: {env[config.ENV_LANDING]}")
        try:
            run_pipeline(env, source.start, source.end)
        except NothingLoadedError as exc:
            nothing_loaded = exc
    code = print_summary(env[config.ENV_WAREHOUSE], source.scopes)
    _say(f"\nmake run finished in {time.perf_counter() - started:.1f}s")
    if nothing_loaded is not None:
        raise nothing_loaded
    return code


def _client_for(source: Source):
    """A CopilotClient through the project's hook, reading the source's Connection."""
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
    writer), the next chunk downloads in a background thread, so downloads never hold the writer.
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

    Returns:
        ``{"chunks", "partitions", "records", "failed", "no_report", "skipped_scopes",
        "unavailable_reports", "seconds"}``.

    Raises:
        NothingLoadedError: every scope was skipped (after the transform built empty marts).
        DemoError: a chunk failed to load or dbt build failed.
    """
    from copilot_warehouse import warehouse as wh
    from copilot_warehouse.extract import availability
    from copilot_warehouse.pipeline import ingest

    warehouse = str(warehouse or config.warehouse_path())
    landing_root = landing_root or config.landing_path()
    today = today or datetime.now(UTC).date()
    started = time.perf_counter()
    probe = _client_for(source)
    scopes: list[config.Scope] = []
    skipped: dict[str, str] = {}
    for scope in source.scopes:
        check = probe.check_availability(scope)
        if check.available:
            scopes.append(scope)
        else:
            skipped[scope.label] = check.reason
            _say(f"  {scope.label}: skipped - {check.reason}")
    wh.initialize(warehouse)  # the raw schema exists even if nothing loads
    wanted = config.day_range(source.start, source.end)
    days_by_scope = {s: set(schedule.clip_days(s, wanted, today).days) for s in scopes}
    chunks = _chunks(wanted, max(1, chunk_days))[::-1]  # newest first: see the docstring
    states = availability.latest_states(warehouse, scopes)
    probe_day = datetime.now(UTC).date()
    skip = {s: availability.reports_to_skip(states, s, probe_day) for s in scopes}
    unavailable: list[str] = [line for reasons in skip.values() for line in reasons.values()]
    for line in unavailable:
        _say(f"  {line}")

    def fetch_chunk(chunk: list[date]) -> list[dict]:
        receipts: list[dict] = []

        def one(scope: config.Scope) -> list[dict]:
            days = [d for d in chunk if d in days_by_scope[scope]]
            if not days:
                return []
            try:
                return [
                    r
                    for r in ingest.fetch_scope_days(
                        _client_for(source), scope, days, landing_root, skip_reports=skip[scope]
                    )
                    if r.get("checked", True)  # reports skipped as known are said once, above
                ]
            except ingest.IngestError as exc:  # every call failed: logged, the other scopes go on
                _say(f"  {exc}")
                return []

        with ThreadPoolExecutor(max_workers=min(4, max(1, len(scopes)))) as pool:
            for result in pool.map(one, scopes):
                receipts += result
        return receipts

    totals = {"partitions": 0, "records": 0, "failed": 0, "no_report": 0}
    with ThreadPoolExecutor(max_workers=1) as prefetch:
        pending = prefetch.submit(fetch_chunk, chunks[0]) if chunks else None
        for index, chunk in enumerate(chunks):
            receipts = pending.result()
            for r in receipts:  # found unavailable on its newest day: not asked for in later chunks
                if r["status"] == ingest.UNAVAILABLE and r.get("report_unavailable"):
                    scope = config.Scope(r["scope_type"], r["scope_name"])
                    skip[scope][r["report"]] = r.get("message") or "not offered"
            pending = prefetch.submit(fetch_chunk, chunks[index + 1]) if index + 1 < len(chunks) else None
            if index == len(chunks) - 1:  # once, like a DAG run: today's seats/billing, 28-day reports
                client = _client_for(source)
                for scope in scopes:
                    receipts += ingest.fetch_scope_snapshot(client, scope, today, landing_root)
                    receipts += ingest.fetch_latest_28_day(
                        client, scope, landing_root, skip_reports=skip[scope]
                    )
            try:
                summary = ingest.load_receipts(receipts, warehouse, landing_root)
            except ingest.IngestError as exc:
                raise DemoError(f"chunk {chunk[0]}..{chunk[-1]}: {exc}") from None
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
                f"{t['records']} records, {t['no_report']} without report, {t['failed']} failed"
            )
    if transform:
        transform_warehouse(warehouse)
    if skipped and not scopes:
        not_loaded = [f"{label}: skipped - {reason}" for label, reason in skipped.items()]
        raise NothingLoadedError(schedule.nothing_loaded_line(not_loaded))
    totals |= {
        "chunks": len(chunks),
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
        raise DemoError(f"dbt build failed:\n{result.summary}")
    for line in quality.anomaly_lines(warehouse):
        _say(f"  {quality.LINE_PREFIX}{line}")
    from copilot_warehouse.serve.report import build_report

    path = build_report(warehouse, Path(warehouse).parent / "report")
    _say(f"  report written to {path}")
    return path


def backfill(argv: list[str]) -> int:
    """``make backfill START_DAY=… END_DAY=…``: fetch, land and load a range in chunks, then transform."""
    parser = argparse.ArgumentParser(
        prog="python -m copilot_warehouse backfill", description=backfill.__doc__
    )
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
    config.price_per_ai_credit_usd()  # a malformed price stops here, before any work
    if not args.verbose:  # the chunk lines below say what happened; details only on request
        import copilot_airflow.hooks  # noqa: F401 - Airflow configures logging on import

        for name in ("copilot_warehouse", "airflow.task.hooks"):
            logging.getLogger(name).setLevel(logging.WARNING)
    start = args.start_day or _env_day("START_DAY")
    if not start:
        raise config.ConfigError(
            "backfill needs a range: make backfill START_DAY=YYYY-MM-DD END_DAY=YYYY-MM-DD"
        )
    with open_source(start, args.end_day or _env_day("END_DAY")) as source:
        _say(f"Source: {source.label}")
        _say(f"Backfill {source.start}..{source.end} in chunks of {args.chunk_days} day(s)")
        try:
            totals = backfill_range(source, chunk_days=args.chunk_days, transform=not args.no_transform)
        except KeyboardInterrupt:
            _say("interrupted: partitions loaded so far are kept; run the same command again to finish")
            return 130
    _say(
        f"Backfill done in {totals['seconds']}s: {totals['partitions']} partitions, {totals['records']} "
        f"records, {totals['no_report']} without report, {totals['failed']} failed"
    )
    code = print_summary() if not args.no_transform else 0
    return 1 if totals["failed"] else code


def cli(command: str, argv: list[str]) -> int:
    """Entry point of ``python -m copilot_warehouse run|backfill|summary``."""
    try:
        if command == "run":
            return run(argv)
        if command == "backfill":
            return backfill(argv)
        if command == "summary":
            return print_summary()
    except (DemoError, config.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2
