"""The environment of a local Airflow under ``.airflow/`` in the repository (``make run/airflow``).

One function builds it (:func:`build_env`), one prepares the metadata database once
(:func:`prepare`: ``airflow db migrate`` and the one-slot pool ``duckdb_writer``). Every command
that starts Airflow locally (``airflow dags test``, ``airflow standalone``, the integration tests)
goes through here, so they all see the same home, DAGs folder, SQLite database and settings.

The GitHub Connection and the Variables are passed as ``AIRFLOW_CONN_GITHUB_COPILOT`` /
``AIRFLOW_VAR_*`` environment variables, never written to the metadata database or printed.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from copilot_warehouse import config

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HOME = REPO_ROOT / ".airflow"
DAGS_FOLDER = REPO_ROOT / "dags"
PLUGINS_FOLDER = REPO_ROOT / "plugins"  # the Copilot usage plugin: report and data health in the UI
API_HOST = "127.0.0.1"
API_PORT = 8080
PARALLELISM = 4  # two cores: enough for the mapped scopes, far below Airflow's default of 32
POOL_DESCRIPTION = "DuckDB allows one writing process: every task that writes the warehouse"


def venv_bin() -> Path:
    """The ``bin`` folder of the running interpreter's environment (holds ``airflow``)."""
    return Path(sys.executable).parent


def airflow_executable() -> str:
    """Path of the ``airflow`` command next to the running interpreter."""
    candidate = venv_bin() / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def connection_json(base_url: str, token: str, api_version: str | None = None) -> str:
    """``AIRFLOW_CONN_GITHUB_COPILOT`` in Airflow's JSON form: host = API base URL, password = token."""
    conn: dict[str, object] = {"conn_type": "http", "host": base_url.rstrip("/"), "password": token}
    if api_version:
        conn["extra"] = {"api_version": api_version}
    return json.dumps(conn)


def _jwt_secret(home: Path) -> str:
    """A per-home secret shared by the API server and the task runners (generated once, kept 0600)."""
    path = home / "jwt_secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def build_env(
    *,
    home: str | Path | None = None,
    connection: str | None = None,
    orgs: list[str] | None = None,
    enterprises: list[str] | None = None,
    warehouse: str | Path | None = None,
    landing: str | Path | None = None,
    api_port: int = API_PORT,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment variables for every local Airflow command.

    Args:
        home: ``AIRFLOW_HOME`` (default ``<repo>/.airflow``).
        connection: value for ``AIRFLOW_CONN_GITHUB_COPILOT`` (JSON or URI); None keeps the caller's.
        orgs: org slugs for ``AIRFLOW_VAR_COPILOT_ORGS``; None keeps the caller's.
        enterprises: enterprise slugs for ``AIRFLOW_VAR_COPILOT_ENTERPRISES``; None keeps the caller's.
        warehouse: DuckDB file (made absolute: tasks may run from another directory).
        landing: landing zone root (made absolute when it is a local path).
        api_port: port of the API server on 127.0.0.1.
        base: environment to start from (default ``os.environ``).

    Returns:
        A new environment dict (``base`` is not modified).
    """
    env = dict(os.environ if base is None else base)
    home = Path(home or DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(PARALLELISM),
            "AIRFLOW__API__HOST": API_HOST,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://{API_HOST}:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{API_HOST}:{api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
            "PATH": f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if connection is not None:
        env["AIRFLOW_CONN_GITHUB_COPILOT"] = connection
    if orgs is not None:
        env["AIRFLOW_VAR_COPILOT_ORGS"] = json.dumps(list(orgs))
    if enterprises is not None:
        env["AIRFLOW_VAR_COPILOT_ENTERPRISES"] = json.dumps(list(enterprises))
    # Relative paths are taken from the current directory (as config.warehouse_path() does) and
    # made absolute: Airflow may run tasks from another working directory.
    env[config.ENV_WAREHOUSE] = str(
        Path(warehouse or env.get(config.ENV_WAREHOUSE) or config.DEFAULT_WAREHOUSE).resolve()
    )
    landing_value = str(landing or env.get(config.ENV_LANDING) or config.DEFAULT_LANDING)
    env[config.ENV_LANDING] = landing_value if "://" in landing_value else str(Path(landing_value).resolve())
    return env


def airflow_cmd(
    env: Mapping[str, str], *args: str, check: bool = True, timeout: float | None = 600, capture: bool = True
) -> subprocess.CompletedProcess:
    """Run ``airflow <args>`` in ``env`` (output captured unless ``capture`` is false)."""
    return subprocess.run(
        [airflow_executable(), *args],
        env=dict(env),
        check=check,
        timeout=timeout,
        capture_output=capture,
        text=True,
    )


def prepare(env: Mapping[str, str]) -> None:
    """Migrate the metadata database and create the ``duckdb_writer`` pool, once per home.

    A marker file records the Airflow version that migrated the database; a new version migrates
    again. The pool is part of the project's set-up: under a scheduler, tasks in a pool that does
    not exist never start.
    """
    import airflow

    home = Path(env["AIRFLOW_HOME"])
    marker = home / f".prepared-{airflow.__version__}"
    if marker.exists() and (home / "airflow.db").exists():
        return
    log.info("preparing the local Airflow metadata database in %s (once)", home)
    result = airflow_cmd(env, "db", "migrate", check=False)
    if result.returncode != 0:
        raise RuntimeError(f"`airflow db migrate` failed in {home}:\n{result.stderr[-2000:]}")
    result = airflow_cmd(env, "pools", "set", config.DUCKDB_POOL, "1", POOL_DESCRIPTION, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"creating the pool {config.DUCKDB_POOL} failed:\n{result.stderr[-2000:]}")
    marker.write_text("ok\n")
