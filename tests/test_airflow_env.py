"""Unit test of the environment ``make airflow`` and ``airflow dags test`` runs get (no Airflow started)."""

from __future__ import annotations

import json
import os

from copilot_dev import airflow_env


def test_environment_of_the_local_airflow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = airflow_env.build_env(
        home=tmp_path / "home",
        connection=airflow_env.connection_json("http://127.0.0.1:1", "tok-123456"),
        orgs=["octo-demo"],
        base={"PATH": "/usr/bin"},
    )
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(airflow_env.REPO_ROOT / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(airflow_env.REPO_ROOT / "plugins")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'home' / 'airflow.db'}"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert 2 <= int(env["AIRFLOW__CORE__PARALLELISM"]) <= 4
    assert "SimpleAuthManager" in env["AIRFLOW__CORE__AUTH_MANAGER"]
    assert env["PATH"].split(os.pathsep)[0] == str(airflow_env.venv_bin())
    assert json.loads(env["AIRFLOW_VAR_COPILOT_ORGS"]) == ["octo-demo"]
    assert json.loads(env["AIRFLOW_CONN_GITHUB_COPILOT"])["host"] == "http://127.0.0.1:1"
    # relative data paths become absolute (tasks may run elsewhere), from the current directory
    assert env["COPILOT_WAREHOUSE_PATH"] == str(tmp_path / "data" / "warehouse.duckdb")
    assert env["COPILOT_LANDING_PATH"] == str(tmp_path / "data" / "landing")
    assert oct((tmp_path / "home" / "jwt_secret").stat().st_mode & 0o777) == "0o600"
