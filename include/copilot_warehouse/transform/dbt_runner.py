"""Run the project's dbt (build, docs, source freshness) and sqlfluff with the project's profile.

The dbt project and its ``profiles.yml`` live in the repository's ``dbt/`` folder (or wherever
``COPILOT_DBT_PROJECT_DIR`` points). Every call returns a :class:`DbtResult` whose ``summary``
names each failed or warned node with its message, so a task can fail with a readable reason.

dbt runs in this process through ``dbtRunner`` by default (about 0.3 s of start-up after the first
call); ``isolated=True`` runs the venv's ``dbt`` executable as a subprocess instead (a fresh
interpreter per call, e.g. for long-lived workers). Both read ``run_results.json`` for the summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot_warehouse import config

ENV_PROJECT_DIR = "COPILOT_DBT_PROJECT_DIR"
ENV_TARGET_DIR = "COPILOT_DBT_TARGET_PATH"
MARTS_SCHEMA = "marts"

# Statuses in run_results.json that make a run unsuccessful / worth reporting.
_FAILED = {"error", "fail", "runtime error"}
_WARNED = {"warn"}


@dataclass(frozen=True)
class NodeIssue:
    """One node (model, test, source) that failed or warned."""

    unique_id: str
    status: str
    message: str

    @property
    def label(self) -> str:
        """``<resource type> <name>``, e.g. ``test unique_key_columns_fct_...``."""
        parts = self.unique_id.split(".")
        kind = parts[0] if parts else "node"
        name = parts[-1] if len(parts) > 1 else self.unique_id
        if kind == "test" and len(parts) >= 3:  # test.<project>.<name>.<hash>: the name says what
            name = parts[2]
        if kind == "source" and len(parts) >= 2:
            name = ".".join(parts[-2:])
        return f"{kind} {name}"


@dataclass
class DbtResult:
    """Outcome of one dbt command.

    Attributes:
        success: dbt finished without an error or a failing test (warnings allowed).
        command: the dbt arguments that ran.
        summary: human-readable lines: totals, then each failed/warned node and its message.
        issues: failed and warned nodes.
        counts: number of nodes per status (``success``, ``pass``, ``error``, ``fail``, ...).
        elapsed: wall-clock seconds.
        target_path: folder holding ``run_results.json``, ``manifest.json``, docs.
        statuses: status of every node that ran, by unique id.
    """

    success: bool
    command: list[str]
    summary: str
    issues: list[NodeIssue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    target_path: Path | None = None
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> list[NodeIssue]:
        """The nodes that errored or failed."""
        return [i for i in self.issues if i.status in _FAILED]

    @property
    def warnings(self) -> list[NodeIssue]:
        """The nodes that warned."""
        return [i for i in self.issues if i.status in _WARNED]

    def __bool__(self) -> bool:
        return self.success


class DbtRunError(RuntimeError):
    """dbt finished unsuccessfully; the message is the result's summary."""

    def __init__(self, result: DbtResult) -> None:
        super().__init__(result.summary)
        self.result = result


def project_dir() -> Path:
    """The dbt project folder: ``COPILOT_DBT_PROJECT_DIR``, else ``dbt/`` of the repository.

    Raises:
        FileNotFoundError: no ``dbt_project.yml`` there (say where with the env var).
    """
    env = os.environ.get(ENV_PROJECT_DIR)
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "dbt"
    if not (path / "dbt_project.yml").is_file():
        raise FileNotFoundError(
            f"no dbt project at {path}: set {ENV_PROJECT_DIR} to the folder holding dbt_project.yml"
        )
    return path.resolve()


def default_target_path() -> Path:
    """Where dbt writes artifacts: ``COPILOT_DBT_TARGET_PATH``, else ``<project>/target``."""
    env = os.environ.get(ENV_TARGET_DIR)
    return Path(env).resolve() if env else project_dir() / "target"


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(
    args: Sequence[str],
    *,
    warehouse_path: str | Path | None = None,
    target_path: str | Path | None = None,
    isolated: bool = False,
) -> DbtResult:
    """Run one dbt command (``["build", "--select", "marts"]``) against the warehouse.

    Args:
        args: dbt sub-command and its arguments (no ``--project-dir``/``--profiles-dir``).
        warehouse_path: DuckDB file; default ``COPILOT_WAREHOUSE_PATH`` / ``data/warehouse.duckdb``.
        target_path: artifacts folder; default :func:`default_target_path`.
        isolated: run the venv's ``dbt`` as a subprocess instead of in this process.

    Returns:
        The :class:`DbtResult`.
    """
    project = project_dir()
    target = Path(target_path).resolve() if target_path else default_target_path()
    target.mkdir(parents=True, exist_ok=True)
    warehouse = Path(warehouse_path or config.warehouse_path()).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    full_args = [
        *args,
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(target),
        "--log-path", str(target / "logs"),
    ]  # fmt: skip
    # `source freshness` writes sources.json; every other command run_results.json
    results_file = target / (
        "sources.json" if list(args[:2]) == ["source", "freshness"] else "run_results.json"
    )
    results_file.unlink(missing_ok=True)
    env = {config.ENV_WAREHOUSE: str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.monotonic()
    output = ""
    with _environment(env):
        if isolated:
            proc = subprocess.run(
                [_dbt_executable(), *full_args], capture_output=True, text=True, cwd=project, check=False
            )
            ok, output = proc.returncode == 0, proc.stdout + proc.stderr
        else:
            from dbt.cli.main import dbtRunner

            try:
                outcome = dbtRunner().invoke(full_args)
            finally:
                _release_duckdb()
            ok = bool(outcome.success)
            if outcome.exception is not None:
                output = f"{type(outcome.exception).__name__}: {outcome.exception}"
    elapsed = time.monotonic() - started
    return _result(list(args), ok, output, results_file, elapsed, target)


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation.

    Without it the file stays open (and locked against other processes, and against read-only
    connections from this one) until the interpreter exits.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a requirement
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        with contextlib.suppress(Exception):
            env.close()
        DuckDBConnectionManager._ENV = None


def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def _result(
    command: list[str], ok: bool, output: str, results_file: Path, elapsed: float, target: Path
) -> DbtResult:
    issues: list[NodeIssue] = []
    counts: dict[str, int] = {}
    statuses: dict[str, str] = {}
    if results_file.is_file():
        data: dict[str, Any] = json.loads(results_file.read_text(encoding="utf-8"))
        for item in data.get("results", []):
            status = str(item.get("status", "")).lower()
            counts[status] = counts.get(status, 0) + 1
            statuses[item.get("unique_id", "?")] = status
            if status in _FAILED or status in _WARNED:
                message = " ".join(str(item.get("message") or "").split())
                if not message and item.get("max_loaded_at"):  # source freshness
                    age = float(item.get("max_loaded_at_time_ago_in_s") or 0) / 86400
                    message = f"newest row loaded at {item['max_loaded_at']} ({age:.1f} days ago)"
                issues.append(NodeIssue(item.get("unique_id", "?"), status, message))
    issues.sort(key=lambda i: (i.status not in _FAILED, i.unique_id))
    success = ok and not any(i.status in _FAILED for i in issues)
    total = sum(counts.values())
    verb = " ".join(command[:2] if command[:1] in (["source"], ["docs"]) else command[:1])
    head = f"dbt {verb}: {'OK' if success else 'FAILED'}"
    tallies = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines = [f"{head} ({total} nodes: {tallies or 'none'}) in {elapsed:.1f}s"]
    for issue in issues:
        lines.append(f"  {issue.status.upper():<5} {issue.label}: {issue.message[:500]}")
    if not success and not issues:
        tail = "\n".join(output.strip().splitlines()[-25:])
        lines.append(tail or "dbt failed before running any node (see the dbt log under the target path)")
    return DbtResult(success, command, "\n".join(lines), issues, counts, elapsed, target, statuses)


def build(
    warehouse_path: str | Path | None = None,
    select: str | Sequence[str] | None = None,
    full_refresh: bool = False,
    vars: dict[str, Any] | None = None,
    *,
    exclude: str | Sequence[str] | None = None,
    unit_tests: bool = False,
    target_path: str | Path | None = None,
    isolated: bool = False,
    quiet: bool = False,
) -> DbtResult:
    """``dbt build``: run and test every model (or the selection) into the warehouse.

    dbt's ``unit_tests:`` are left out unless ``unit_tests`` is true: they check the SQL, not the
    data, and the one for incremental mode needs the mart to exist already (run them in CI or
    with :func:`run_unit_tests` on a built warehouse).

    Args:
        warehouse_path: DuckDB file (default ``COPILOT_WAREHOUSE_PATH``).
        select: dbt selection, e.g. ``"marts"`` or ``["+fct_copilot_usage_daily"]``.
        full_refresh: rebuild incremental marts from scratch.
        vars: dbt vars, e.g. ``{"repull_days": 5, "pseudonymize_logins": True}``.
        exclude: dbt exclusion.
        unit_tests: also run the dbt unit tests (needs the incremental marts to exist).
        target_path: artifacts folder.
        isolated: run dbt as a subprocess.
        quiet: print only errors (``--quiet``); the result's summary still names every failed
            or warned node, and the full log is in the target path.

    Returns:
        The :class:`DbtResult`; ``.success`` is false on any model error or failing test, and
        on a malformed ``COPILOT_PRICE_PER_AI_CREDIT_USD`` (checked before dbt starts: the
        summary is then the one line saying what is wrong).
    """
    from copilot_warehouse import warehouse as wh

    if not (vars and "price_per_ai_credit_usd" in vars):  # the dbt var, when given, wins
        try:
            config.price_per_ai_credit_usd()
        except config.ConfigError as exc:
            return DbtResult(False, ["build"], f"dbt build: not started: {exc}")
    # dbt's sources are the raw tables: make sure they exist even when nothing was loaded yet.
    wh.initialize(warehouse_path)
    args = ["build"]
    args += _selection("--select", select) + _selection("--exclude", exclude)
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if quiet:
        args.append("--quiet")
    if vars:
        args += ["--vars", json.dumps(vars)]
    return run(args, warehouse_path=warehouse_path, target_path=target_path, isolated=isolated)


def build_or_raise(**kwargs: Any) -> DbtResult:
    """:func:`build`, raising :class:`DbtRunError` (message = summary) when it fails."""
    result = build(**kwargs)
    if not result.success:
        raise DbtRunError(result)
    return result


def run_unit_tests(
    warehouse_path: str | Path | None = None, *, target_path: str | Path | None = None
) -> DbtResult:
    """Run the dbt ``unit_tests:`` (metric math, ISO weeks, active rule, incremental mode).

    The warehouse must have been built once: the incremental-mode test reads the mart's columns.
    """
    return run(["test", "--select", "test_type:unit"], warehouse_path=warehouse_path, target_path=target_path)


def source_freshness(
    warehouse_path: str | Path | None = None, *, target_path: str | Path | None = None
) -> DbtResult:
    """``dbt source freshness``: warns for raw tables not loaded for 4 days."""
    return run(["source", "freshness"], warehouse_path=warehouse_path, target_path=target_path)


def docs(warehouse_path: str | Path | None = None, *, target_path: str | Path | None = None) -> DbtResult:
    """``dbt docs generate``: the docs site (``index.html``) under the target path."""
    result = run(["docs", "generate"], warehouse_path=warehouse_path, target_path=target_path)
    if result.success and result.target_path is not None:
        result.summary += f"\ndocs site: {result.target_path / 'index.html'} (serve: dbt docs serve)"
    return result


def _selection(flag: str, value: str | Sequence[str] | None) -> list[str]:
    if not value:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [flag, *items]


@dataclass
class LintResult:
    """Outcome of sqlfluff: ``success`` and its report."""

    success: bool
    output: str

    def __bool__(self) -> bool:
        return self.success


def lint(paths: Sequence[str | Path] | None = None, *, fix: bool = False) -> LintResult:
    """Lint (or fix) the dbt SQL with sqlfluff and the repository's ``.sqlfluff``.

    The dbt templater compiles the project, which opens a DuckDB file: a throwaway one in the
    target folder, never the warehouse.

    Args:
        paths: files or folders (default the whole dbt project).
        fix: apply fixes instead of only reporting.
    """
    project = project_dir()
    root = project.parent
    targets = [str(p) for p in (paths or [project])]
    scratch = default_target_path() / "sqlfluff.duckdb"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("sqlfluff")
    cmd = [str(exe) if exe.exists() else "sqlfluff", "fix" if fix else "lint", *targets, "--processes", "1"]
    env = {**os.environ, config.ENV_WAREHOUSE: str(scratch), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env, check=False)
    noise = "WARNING    Skipped file"  # sqlfluff's note for every macro file under tests/generic
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if not ln.startswith(noise)]
    return LintResult(proc.returncode == 0, "\n".join(lines))


def cli(command: str, argv: list[str]) -> int:
    """Entry point of ``python -m copilot_warehouse docs | lint-sql`` (also ``dbt-build``).

    Args:
        command: ``docs``, ``lint-sql`` or ``dbt-build``.
        argv: options: ``--warehouse PATH``, ``--fix`` (lint-sql), ``--full-refresh``,
            ``--select SEL`` (dbt-build).

    Returns:
        The process exit code.
    """
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m copilot_warehouse {command}")
    if command == "lint-sql":
        parser.add_argument("paths", nargs="*", help="files or folders (default: the dbt project)")
        parser.add_argument("--fix", action="store_true", help="apply sqlfluff fixes")
        opts = parser.parse_args(argv)
        outcome = lint(opts.paths or None, fix=opts.fix)
        print(outcome.output)
        return 0 if outcome.success else 1
    parser.add_argument("--warehouse", help="DuckDB file (default: COPILOT_WAREHOUSE_PATH)")
    if command == "dbt-build":
        parser.add_argument("--select", nargs="*", help="dbt selection")
        parser.add_argument("--full-refresh", action="store_true")
        opts = parser.parse_args(argv)
        result = build(opts.warehouse, select=opts.select, full_refresh=opts.full_refresh)
    elif command == "docs":
        opts = parser.parse_args(argv)
        result = docs(opts.warehouse)
    else:
        parser.error(f"unknown command {command!r}")
    print(result.summary)
    return 0 if result.success else 1
