"""``make airflow``: local Airflow (API server + UI, scheduler, DAG processor, triggerer) with the simulator.

Starts the bundled GitHub API simulator (unless ``AIRFLOW_CONN_GITHUB_COPILOT`` points at the real
API), configures the Connection and Variables through environment variables, runs
``airflow standalone`` under ``.airflow/`` with the settings of :mod:`copilot_dev.airflow_env`
(127.0.0.1 only, SQLite, a few workers, the ``duckdb_writer`` pool), prints the URL and the
login, and stops everything on Ctrl-C or SIGTERM. ``airflow standalone`` is stopped with SIGINT:
SIGTERM leaves its components running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from copilot_warehouse import config
from copilot_warehouse.pipeline import schedule

from copilot_dev import airflow_env

PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
READY_TIMEOUT = 300.0
STOP_TIMEOUT = 45.0


def health(port: int, host: str = airflow_env.API_HOST) -> dict | None:
    """``GET /api/v2/monitor/health`` as a dict, or None while the API server is not up."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/monitor/health", timeout=5) as resp:  # noqa: S310
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def is_ready(status: dict | None) -> bool:
    """Every component the pipeline needs reports healthy."""
    if not status:
        return False
    parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
    return all((status.get(p) or {}).get("status") == "healthy" for p in parts if p in status) and (
        (status.get("scheduler") or {}).get("status") == "healthy"
    )


def admin_password(home: Path) -> str | None:
    """The generated password of the ``admin`` user (simple auth manager), once it exists."""
    path = home / PASSWORDS_FILE
    try:
        return json.loads(path.read_text()).get("admin")
    except (OSError, ValueError):
        return None


def stop_process_group(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> int:
    """Stop ``airflow standalone`` and its components: SIGINT, then SIGKILL after ``timeout``."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        return proc.wait()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()
    finally:
        # Components that outlived their parent still sit in the group: make sure they go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


class _Stop(Exception):
    """Raised by the signal handler to leave the wait loop."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def main(argv: list[str]) -> int:
    """Run the local Airflow until Ctrl-C/SIGTERM; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m copilot_dev airflow", description=__doc__)
    parser.add_argument("--port", type=int, default=airflow_env.API_PORT, help="API server/UI port (8080)")
    parser.add_argument("--home", default=None, help="AIRFLOW_HOME (default <repo>/.airflow)")
    parser.add_argument("--sim-port", type=int, default=0, help="simulator port (default: a free one)")
    parser.add_argument(
        "--paused", action="store_true", help="keep new DAGs paused (default: they start unpaused)"
    )
    args = parser.parse_args(argv)

    server = None
    if os.environ.get("AIRFLOW_CONN_GITHUB_COPILOT", "").strip():
        scopes = schedule.parse_scopes(
            os.environ.get("AIRFLOW_VAR_COPILOT_ORGS"), os.environ.get("AIRFLOW_VAR_COPILOT_ENTERPRISES")
        )
        connection, source = None, "the GitHub API of AIRFLOW_CONN_GITHUB_COPILOT"
        orgs = enterprises = None
        del scopes  # validated only: the variables are passed through unchanged
    else:
        from copilot_dev.simulator import SimulatorConfig, SimulatorServer

        sim_config = SimulatorConfig()
        server = SimulatorServer(sim_config, port=args.sim_port).start()
        connection = airflow_env.connection_json(server.url, sim_config.token)
        orgs, enterprises = list(sim_config.orgs), list(sim_config.enterprises)
        source = f"the simulator at {server.url}"

    env = airflow_env.build_env(
        home=args.home, connection=connection, orgs=orgs, enterprises=enterprises, api_port=args.port
    )
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True" if args.paused else "False"
    if server is not None:  # the freshness check says where the simulator's data ends
        env[config.ENV_SIMULATOR_LAST_DAY] = sim_config.end_day.isoformat()
    else:
        env.pop(config.ENV_SIMULATOR_LAST_DAY, None)
    home = Path(env["AIRFLOW_HOME"])
    proc = None
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Preparing Airflow in {home} (database, pool {config.DUCKDB_POOL})...", flush=True)
        airflow_env.prepare(env)
        if not args.paused:
            # DAGs that `make run` (airflow dags test) already created were created paused: unpause
            # the project's DAGs so the schedule runs here. On a fresh home nothing matches (no-op).
            airflow_env.airflow_cmd(
                env, "dags", "unpause", "--treat-dag-id-as-regex", "-y", "^copilot_", check=False, timeout=180
            )
        log_path = home / "standalone.log"
        print(f"Starting airflow standalone (log: {log_path}); data from {source}", flush=True)
        with open(log_path, "a", encoding="utf-8") as log_file:
            proc = subprocess.Popen(
                [airflow_env.airflow_executable(), "standalone"],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not is_ready(health(args.port)):
            if proc.poll() is not None:
                print(f"airflow standalone exited with {proc.returncode}; see {log_path}", file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print(f"Airflow was not ready after {READY_TIMEOUT:.0f}s; see {log_path}", file=sys.stderr)
                return 1
            time.sleep(2)
        password = admin_password(home)
        print(f"\nAirflow is up: http://{airflow_env.API_HOST}:{args.port}", flush=True)
        print(f"Login: admin / {password or '(see ' + str(home / PASSWORDS_FILE) + ')'}", flush=True)
        print(
            f"Warehouse: {env[config.ENV_WAREHOUSE]}\nDAGs: copilot_usage_ingest (daily 06:00 UTC, "
            "Params start_day/end_day), copilot_usage_transform (on new raw data)\nCtrl-C stops everything.",
            flush=True,
        )
        while proc.poll() is None:
            time.sleep(1)
        print(f"airflow standalone exited with {proc.returncode}; see {log_path}", file=sys.stderr)
        return 1
    except _Stop as stop:
        print(f"\n{stop}: stopping Airflow...", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc is not None:
            stop_process_group(proc)
        if server is not None:
            server.stop()
        print("stopped.", flush=True)


def cli(command: str, argv: list[str]) -> int:
    """Entry point of ``python -m copilot_dev airflow``."""
    if command != "airflow":
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    try:
        return main(argv)
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
