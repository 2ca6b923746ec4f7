"""Smoke test of the benchmarks: each script runs at its tiny ``--quick`` size and prints figures.

Not a timed test: it only proves the harnesses run end to end against the current code and print
their figures and the command that reproduces them. Results go to a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# script -> text its output must contain when the pieces it measures exist
EXPECTED = {
    "parse_and_land": "loader / ceiling records/s",
    "backfill": "calls vs minimum",
    "incremental_build": "incremental build",
    "full_build": "dbt build from scratch",
    "dag_parse": "beyond airflow.sdk",
    "bytes": "B per user-day",
    "scale": "s/user-day largest/smallest",
}


@pytest.mark.integration
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_bench_script_quick(script: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{script}.py"), "--quick"],
        cwd=REPO,
        env={**_env(), "COPILOT_BENCH_DATA": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"reproduce: .venv/bin/python bench/{script}.py --quick" in out, out
    assert "machine: " in out
    assert (tmp_path / f"{script}.json").exists()
    if "not available yet" not in out:  # the piece it measures exists: its figures must be there
        assert EXPECTED[script] in out, out
        assert "ERROR" not in out, out


@pytest.mark.integration
def test_run_all_lists_every_script() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import run_all
    finally:
        sys.path.pop(0)
    assert set(run_all.SCRIPTS) == set(EXPECTED)
    assert all((REPO / "bench" / f"{name}.py").exists() for name in run_all.SCRIPTS)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
