"""``make run``: the pipeline end to end from one command, on the simulator unless a token is set.

``run`` drives the real DAGs with ``airflow dags test`` (no scheduler needed): the ingest DAG for a
range of days, then the transform DAG (dbt build + report), then prints rows per mart and the latest
weekly acceptance rate per org (:mod:`copilot_warehouse.serve.summary`). ``backfill`` is the
product's ``make backfill`` (:mod:`copilot_warehouse.pipeline.backfill`) with this module's source.

Offline by default: without ``AIRFLOW_CONN_GITHUB_COPILOT`` the bundled simulator is started on
127.0.0.1 and used as the GitHub API. With it set (JSON or URI form), the real API is used with the
orgs of ``AIRFLOW_VAR_COPILOT_ORGS`` (and ``AIRFLOW_VAR_COPILOT_ENTERPRISES``). ``START_DAY`` /
``END_DAY`` choose the range; ``COPILOT_WAREHOUSE_PATH`` / ``COPILOT_LANDING_PATH`` where data goes.
:func:`snapshot_marts` reads every mart's rows, to compare two runs. Nothing here reads input or
prints the token.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from copilot_warehouse import config, warehouse
from copilot_warehouse.pipeline import backfill as product_backfill
from copilot_warehouse.pipeline import schedule
from copilot_warehouse.pipeline.backfill import (
    ENV_CONN,
    ENV_ENTERPRISES,
    ENV_ORGS,
    NothingLoadedError,
    PipelineError,
    Source,
    configured_source,
    env_day,
    source_range,
)
from copilot_warehouse.serve.summary import mart_counts, print_summary

from copilot_dev import airflow_env

ENV_MESSY = "COPILOT_SIMULATOR_MESSY"  # 1: the simulator serves the odd shapes of real GitHub data
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


@contextlib.contextmanager
def open_source(start_day: str | None = None, end_day: str | None = None) -> Iterator[Source]:
    """The real API when ``AIRFLOW_CONN_GITHUB_COPILOT`` is set, else a simulator started here.

    Args:
        start_day: first day (default ``START_DAY`` env, else the simulator's first day or 28 days ago).
        end_day: last day (default ``END_DAY`` env, else the simulator's last day or today minus the lag).
    """
    start_day = start_day or env_day("START_DAY")
    end_day = end_day or env_day("END_DAY")
    if os.environ.get(ENV_CONN, "").strip():
        with configured_source(start_day, end_day) as source:
            yield source
        return
    from copilot_dev.simulator import SimulatorServer

    sim_config, scopes = simulator_config()
    start, end = source_range(start_day, end_day, sim_config.start_day, sim_config.end_day)
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
        PipelineError: the DAG run failed (the message names the log file and shows its tail).
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
                    # `airflow dags test` keeps every task's log in this one file
                    _say(f"    {text.replace('see its task logs', f'see {log_path}')}")
        code = proc.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        nothing = _nothing_loaded_line(log_path)
        if nothing:
            raise NothingLoadedError(nothing)
        raise PipelineError(
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
        for table, _ in mart_counts(con):
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
        PipelineError: a DAG run failed for another reason (the message names its log file).
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
    parser = argparse.ArgumentParser(prog="python -m copilot_dev run", description=run.__doc__)
    parser.add_argument("--start-day", help="first report day (default START_DAY or the whole source range)")
    parser.add_argument("--end-day", help="last report day (default END_DAY)")
    args = parser.parse_args(argv)
    config.check_settings()  # a malformed setting stops here, before any work
    started = time.perf_counter()
    nothing_loaded: NothingLoadedError | None = None
    with open_source(args.start_day, args.end_day) as source:
        _say(f"Source: {source.label}")
        _say(f"Scopes: {', '.join(s.label for s in source.scopes)}; days {source.start}..{source.end}")
        env = _prepared_env(source)
        _say(
            f"Warehouse: {env[config.ENV_WAREHOUSE]}  landing: {env[config.ENV_LANDING]} "
            f"(parts {config.landing_compression()})"
        )
        warehouse.initialize(env[config.ENV_WAREHOUSE], say=_say)  # a one-time migration shows here
        try:
            run_pipeline(env, source.start, source.end)
        except NothingLoadedError as exc:
            nothing_loaded = exc
    # nothing loaded (e.g. a wrong token): every figure shown is from an earlier run, and says so
    code = print_summary(env[config.ENV_WAREHOUSE], [] if nothing_loaded else source.scopes)
    _say(f"\nmake run finished in {time.perf_counter() - started:.1f}s")
    if nothing_loaded is not None:
        raise nothing_loaded
    return code


def backfill(argv: list[str]) -> int:
    """``make backfill``: the product's backfill, from the simulator unless a Connection is set."""
    return product_backfill.backfill(argv, open_source=open_source, prog="python -m copilot_dev backfill")


def cli(command: str, argv: list[str]) -> int:
    """Entry point of ``python -m copilot_dev run|backfill``."""
    try:
        if command == "run":
            return run(argv)
        if command == "backfill":
            return backfill(argv)
    except (PipelineError, config.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2
