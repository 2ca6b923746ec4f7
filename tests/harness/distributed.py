"""A real distributed Airflow on one machine: CeleryExecutor, PostgreSQL metadata DB, Redis broker.

``LocalCeleryCluster`` starts the same components as the Compose ``celery`` profile, as local
processes of this virtual environment: ``airflow db migrate``, the ``duckdb_writer`` pool, then the
scheduler, the dag-processor, the api-server (127.0.0.1 on a free port) and a Celery worker. It
owns everything it creates (a fresh PostgreSQL database, a Redis database number it claims, an
``AIRFLOW_HOME``) and removes all of it in :meth:`LocalCeleryCluster.stop`, which is safe to call
after a partial start.

It proves the distributed path (fetch tasks spread over Celery worker slots, warehouse writes
serialised by the one-slot pool) and gives the REST API v2 helpers that tests and demos need::

    with LocalCeleryCluster(home=tmp, dags_folder=Path("dags"), extra_env=env) as cluster:
        cluster.unpause("copilot_usage_ingest")
        cluster.airflow("backfill", "create", "--dag-id", "copilot_usage_ingest", ...)
        cluster.wait_for_runs("copilot_usage_ingest", count=14)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from copilot_warehouse import config

DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
CLAIM_KEY = "copilot-warehouse:distributed-claim"
TERMINAL_RUN_STATES = {"success", "failed"}


class ClusterError(RuntimeError):
    """A component did not come up, or a wait timed out; the message names it and its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll ``condition`` until it returns something truthy; raise ClusterError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
        except ClusterError:
            raise  # a definite failure (a component died, a run failed): stop waiting
        except Exception as exc:  # noqa: BLE001 - a component that is still starting answers with errors
            last_error = exc
            result = None
        if result:
            return result
        time.sleep(interval)
    raise ClusterError(
        f"timed out after {timeout:.0f}s waiting for {what}" + (f": {last_error}" if last_error else "")
    )


@dataclass
class Component:
    """One long-running Airflow process and the log file its output goes to."""

    name: str
    argv: list[str]
    log: Path
    process: subprocess.Popen | None = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, chars: int = 4000) -> str:
        """The end of the component's log, for error messages."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class LocalCeleryCluster:
    """Airflow with CeleryExecutor as local processes, on PostgreSQL and Redis it cleans up after.

    Args:
        home: An empty folder for ``AIRFLOW_HOME`` (logs, config, component output).
        dags_folder: The DAGs the dag-processor parses.
        pg_dsn: A PostgreSQL maintenance connection allowed to create and drop databases.
        redis_url: The Redis server (without a database number; the cluster claims a free one).
        worker_concurrency: Task slots of the Celery worker.
        parallelism: ``[core] parallelism``: task instances running at once.
        extra_env: More environment for every component (Connections, Variables, project paths).
    """

    home: Path
    dags_folder: Path
    pg_dsn: str = DEFAULT_PG_DSN
    redis_url: str = DEFAULT_REDIS_URL
    worker_concurrency: int = 3
    parallelism: int = 6
    extra_env: dict[str, str] = field(default_factory=dict)
    database: str = field(default_factory=lambda: f"copilot_airflow_test_{uuid.uuid4().hex[:10]}")
    redis_db: int | None = None
    api_port: int = field(default_factory=free_port)
    components: list[Component] = field(default_factory=list)
    _password: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)
    _token: str | None = field(default=None, repr=False)
    _database_created: bool = False

    # --- environment -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def broker_url(self) -> str:
        return f"{self.redis_url}/{self.redis_db}"

    @property
    def sql_alchemy_conn(self) -> str:
        base = self.pg_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
        return f"{base}/{self.database}"

    @property
    def env(self) -> dict[str, str]:
        """The environment every Airflow process of this cluster runs with."""
        bin_dir = str(Path(sys.executable).parent)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                # Airflow components start helpers by name: the venv's bin must come first.
                "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.sql_alchemy_conn,
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": self.broker_url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__SECRET_KEY": self._secret("api"),
                "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt"),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                # Log servers on free ports, so two clusters (or a developer's Airflow) never clash.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self._port("worker_log")),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self._port("trigger_log")),
                # Pick up DAG files and queued work quickly: this cluster lives for minutes.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # A freed pool slot is handed to the next task sooner (default 1 s idle sleep).
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _secret(self, name: str) -> str:
        cache = self.__dict__.setdefault("_secrets", {})
        return cache.setdefault(name, secrets.token_urlsafe(32))

    def _port(self, name: str) -> int:
        cache = self.__dict__.setdefault("_ports", {})
        return cache.setdefault(name, free_port())

    # --- life cycle --------------------------------------------------------------------------

    def __enter__(self) -> LocalCeleryCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, timeout: float = 180) -> None:
        """Create the databases, migrate, create the pool, start every component, wait for health."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({"admin": self._password}), encoding="utf-8")
        self._create_database()
        self._claim_redis_db()
        self.airflow("db", "migrate", timeout=300)
        self.airflow("pools", "set", config.DUCKDB_POOL, "1", "DuckDB allows one writing process")
        worker_name = f"copilot-{self.database[-10:]}@%h"
        for name, args in (
            (
                "api-server",
                ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"],
            ),
            ("scheduler", ["scheduler"]),
            ("dag-processor", ["dag-processor"]),
            (
                "celery-worker",
                [
                    "celery",
                    "worker",
                    "--concurrency",
                    str(self.worker_concurrency),
                    "--celery-hostname",
                    worker_name,
                    "--without-gossip",
                    "--without-mingle",
                    "--skip-serve-logs",
                ],
            ),
        ):
            self._spawn(name, args)
        self.wait_healthy(timeout)

    def _spawn(self, name: str, args: list[str]) -> Component:
        log = self.home / f"{name}.log"
        component = Component(name, [_airflow_bin(), *args], log)
        with log.open("ab") as out:
            component.process = subprocess.Popen(
                component.argv,
                env=self.env,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends it and its children
            )
        self.components.append(component)
        return component

    def check_components(self) -> None:
        """Raise ClusterError naming the first component that has exited."""
        for component in self.components:
            if not component.alive():
                code = component.process.returncode if component.process else None
                raise ClusterError(
                    f"{component.name} exited with {code}; end of {component.log}:\n{component.tail()}"
                )

    def health(self) -> dict:
        """``GET /api/v2/monitor/health``: metadatabase, scheduler and dag-processor status."""
        response = requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=10)
        response.raise_for_status()
        return response.json()

    def worker_ping(self) -> list[dict]:
        """Celery ``control.ping`` over the broker: the replies of this cluster's workers."""
        from celery import Celery

        app = Celery(broker=self.broker_url)
        try:
            return app.control.ping(timeout=2.0)
        finally:
            app.close()

    def wait_healthy(self, timeout: float = 180) -> None:
        """Wait until the api-server, scheduler, dag-processor and the Celery worker are all up."""

        def healthy() -> bool:
            self.check_components()
            status = self.health()
            return all(
                (status.get(part) or {}).get("status") == "healthy"
                for part in ("metadatabase", "scheduler", "dag_processor")
            )

        wait_until(healthy, timeout, "api-server, scheduler and dag-processor health")
        wait_until(lambda: self.check_components() or self.worker_ping(), timeout, "the Celery worker")

    def stop(self, grace: float = 20) -> None:
        """End every component (SIGTERM, then SIGKILL), drop the database, free the Redis DB."""
        for component in self.components:
            if component.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(component.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for component in self.components:
            if component.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Children (task processes, api-server workers) share the group: end any that remain.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(component.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=5)
        self._drop_database()
        self._release_redis_db()

    # --- PostgreSQL and Redis ------------------------------------------------------------------

    def _admin_connection(self):
        import psycopg2

        con = psycopg2.connect(self.pg_dsn)
        con.autocommit = True
        return con

    def _create_database(self) -> None:
        con = self._admin_connection()
        try:
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.database}"')
            self._database_created = True
        finally:
            con.close()

    def _drop_database(self) -> None:
        if not self._database_created:
            return
        con = self._admin_connection()
        try:
            with con.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self._database_created = False
        finally:
            con.close()

    def database_exists(self) -> bool:
        """Whether this cluster's metadata database is present on the server."""
        con = self._admin_connection()
        try:
            with con.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                return cur.fetchone() is not None
        finally:
            con.close()

    def _claim_redis_db(self) -> None:
        """Take the highest-numbered empty Redis database, marking it with a claim key."""
        import redis

        if self.redis_db is not None:
            return
        databases = int(redis.Redis.from_url(self.redis_url).config_get("databases")["databases"])
        for number in range(databases - 1, 0, -1):
            client = redis.Redis.from_url(f"{self.redis_url}/{number}")
            if client.dbsize() == 0 and client.set(CLAIM_KEY, self.database, nx=True):
                self.redis_db = number
                return
        raise ClusterError(f"no empty Redis database on {self.redis_url} to claim")

    def _release_redis_db(self) -> None:
        import redis

        if self.redis_db is None:
            return
        client = redis.Redis.from_url(self.broker_url)
        if client.get(CLAIM_KEY) in (None, self.database.encode()):
            client.flushdb()
        self.redis_db = None

    # --- commands and REST API -----------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``airflow <args>`` against this cluster; raise ClusterError with its output on failure."""
        result = subprocess.run(
            [_airflow_bin(), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"airflow {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}"
            )
        return result

    def token(self) -> str:
        """A REST API bearer token for the admin user (``POST /auth/token``)."""
        if self._token is None:
            response = requests.post(
                f"{self.api_url}/auth/token",
                json={"username": "admin", "password": self._password},
                timeout=30,
            )
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the REST API v2 (``path`` below ``/api/v2``) and return the decoded JSON."""
        response = requests.request(
            method,
            f"{self.api_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
            **kwargs,
        )
        if response.status_code >= 400:
            raise ClusterError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 120, files: Iterable[str] = ()) -> None:
        """Wait until the dag-processor has serialised every DAG in ``dag_ids``.

        Args:
            dag_ids: The DAGs to wait for.
            timeout: Seconds to wait.
            files: DAG file names whose import errors fail the wait at once (all files when empty).
        """
        wanted = set(dag_ids)
        names = tuple(files)

        def parsed() -> bool:
            self.check_components()
            found = {d["dag_id"] for d in self._paged("/dags", "dags")}
            errors = [
                e
                for e in self._paged("/importErrors", "import_errors")
                if not names or Path(e.get("filename", "")).name in names
            ]
            if errors:
                raise ClusterError(f"DAG import errors: {errors}")
            return wanted <= found

        wait_until(parsed, timeout, f"DAGs {sorted(wanted)} to be parsed", interval=2)

    def unpause(self, dag_id: str) -> None:
        """``PATCH /dags/{dag_id}`` with ``is_paused: false``."""
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def _paged(self, path: str, key: str, params: dict | None = None) -> list[dict]:
        """Every item of a paged list endpoint (the API returns at most 100 per page)."""
        items: list[dict] = []
        while True:
            page = self.api("GET", path, params={**(params or {}), "limit": 100, "offset": len(items)})
            items += page[key]
            if not page[key] or len(items) >= page["total_entries"]:
                return items

    def dag_runs(self, dag_id: str) -> list[dict]:
        """Every run of ``dag_id`` (oldest first)."""
        return self._paged(f"/dags/{dag_id}/dagRuns", "dag_runs", {"order_by": "id"})

    def task_instances(self, dag_id: str, run_id: str = "~") -> list[dict]:
        """Task instances of one run (``~`` = every run) of ``dag_id``, mapped ones included."""
        return self._paged(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances")

    def wait_for_runs(self, dag_id: str, count: int, timeout: float) -> list[dict]:
        """Wait until ``dag_id`` has at least ``count`` runs, all finished; return them.

        Raises ClusterError as soon as a run fails, with the failed tasks' states in the message.
        """

        def finished() -> list[dict] | None:
            self.check_components()
            runs = self.dag_runs(dag_id)
            failed = [r for r in runs if r["state"] == "failed"]
            if failed:
                tis = [
                    (t["task_id"], t.get("map_index"), t["state"])
                    for t in self.task_instances(dag_id, failed[0]["dag_run_id"])
                    if t["state"] not in ("success", "skipped")
                ]
                raise ClusterError(f"{dag_id} run {failed[0]['dag_run_id']} failed; tasks: {tis}")
            if len(runs) >= count and all(r["state"] in TERMINAL_RUN_STATES for r in runs):
                return runs
            return None

        try:
            return wait_until(finished, timeout, f"{count} finished runs of {dag_id}", interval=3)
        except ClusterError as exc:
            if "failed; tasks" in str(exc):
                raise
            states = [(r["dag_run_id"], r["state"]) for r in self.dag_runs(dag_id)]
            raise ClusterError(f"{exc}; runs now: {states}") from None

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1
    ) -> str:
        """The text of one task instance's log, read through the REST API."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        data = self.api("GET", path, params={"map_index": map_index, "full_content": "true"})
        content = data.get("content", "")
        if isinstance(content, list):
            return "\n".join(e.get("event", "") if isinstance(e, dict) else str(e) for e in content)
        return str(content)


def _airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _fernet_key() -> str:
    """One Fernet key per Python process (every component of a cluster must share it)."""
    global _FERNET_KEY
    if _FERNET_KEY is None:
        from cryptography.fernet import Fernet

        _FERNET_KEY = Fernet.generate_key().decode()
    return _FERNET_KEY


_FERNET_KEY: str | None = None


def instant(value: str | datetime) -> datetime:
    """A datetime from a datetime or an ISO 8601 string such as the REST API's ``...Z`` times."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


def max_concurrency(intervals: Iterable[tuple[str | datetime, str | datetime]]) -> int:
    """The most ``(start, end)`` intervals open at one instant; an end touching a start is no overlap.

    Args:
        intervals: Start and end times as datetimes or ISO 8601 strings (as the REST API gives them).

    Returns:
        1 when the intervals ran one after another, more when some ran at the same time.
    """
    events = []
    for start, end in intervals:
        events.append((instant(start), 1))
        events.append((instant(end), -1))
    events.sort(key=lambda e: (e[0], e[1]))  # at the same instant, an end sorts before a start
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def _passthrough_env() -> dict[str, str]:
    """The caller's project settings: Connections, Variables and ``COPILOT_*`` paths."""
    return {
        k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "COPILOT_"))
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.harness.distributed``: run the Celery deployment until Ctrl-C.

    The project's settings come from the environment (``AIRFLOW_CONN_GITHUB_COPILOT``,
    ``AIRFLOW_VAR_COPILOT_ORGS``, ``COPILOT_WAREHOUSE_PATH``, ``COPILOT_LANDING_PATH``); the admin
    password is written to ``<home>/passwords.json``, never printed.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.harness.distributed", description=main.__doc__)
    parser.add_argument("--home", type=Path, default=Path(".airflow-celery"), help="AIRFLOW_HOME to create")
    parser.add_argument("--dags", type=Path, default=Path("dags"), help="DAGs folder")
    parser.add_argument("--workers", type=int, default=3, help="Celery worker concurrency")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN, help="PostgreSQL maintenance connection")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis server (no DB number)")
    args = parser.parse_args(argv)
    cluster = LocalCeleryCluster(
        home=args.home.resolve(),
        dags_folder=args.dags.resolve(),
        pg_dsn=args.pg_dsn,
        redis_url=args.redis_url,
        worker_concurrency=args.workers,
        parallelism=max(4, args.workers * 2),
        extra_env=_passthrough_env(),
    )

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a shell's background job starts with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    with cluster:
        print(
            json.dumps(
                {
                    "api_url": cluster.api_url,
                    "user": "admin",
                    "passwords_file": str(cluster.home / "passwords.json"),
                    "database": cluster.database,
                    "redis_db": cluster.redis_db,
                    "logs": str(cluster.home),
                }
            ),
            flush=True,
        )
        try:
            while True:
                cluster.check_components()
                time.sleep(5)
        except KeyboardInterrupt:
            print("stopping: removing processes, database and Redis keys", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
