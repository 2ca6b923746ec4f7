"""What ``make run`` echoes from ``airflow dags test`` (copilot_dev.run.run_dag), with a stand-in
``airflow`` executable that prints what the ingest DAG prints for a failed scope."""

from __future__ import annotations

import stat
import sys

from copilot_dev import airflow_env
from copilot_dev import run as make_run


def test_a_failed_scope_line_names_the_log_file_that_holds_its_task_logs(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "airflow"
    fake.write_text(
        f"#!{sys.executable}\n"
        "print('2026-12-01T10:00:00 [info] organization:b: no result - the scope failed, "
        "see its task logs [copilot] loc=x')\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(airflow_env, "airflow_executable", lambda: str(fake))
    log_dir = tmp_path / "logs"
    make_run.run_dag({"PATH": "/usr/bin:/bin"}, "copilot_usage_ingest", log_dir=log_dir)
    out = capsys.readouterr().out
    log_file = log_dir / "copilot_usage_ingest.log"
    assert f"organization:b: no result - the scope failed, see {log_file}" in out
    assert "no result" in log_file.read_text()
