"""Shared helpers of the benchmarks: timing, peak memory of child processes, machine facts, output.

Every benchmark script runs its measured work in fresh child processes (so a measurement owns its
peak RSS and pays its own imports), repeats it, reports the median and prints the exact command
that reproduces the figures. Results also go to ``data/bench/<name>.json`` for ``run_all.py``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
DATA_DIR = Path(os.environ.get("COPILOT_BENCH_DATA") or REPO / "data" / "bench")
PYTHON = sys.executable


class Missing(RuntimeError):
    """A piece of the project the benchmark needs does not exist (yet)."""


def require(module: str, *attrs: str):
    """Import ``module`` and check it has ``attrs``; raise ``Missing`` with a clear message if not."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise Missing(f"{module} is not available yet") from None
        raise
    for attr in attrs:
        if not hasattr(mod, attr):
            raise Missing(f"{module}.{attr} is not available yet")
    return mod


def reproduce_command(script: str, argv: Sequence[str]) -> str:
    """The shell command that re-runs ``script`` with ``argv`` from the repository root."""
    return " ".join([".venv/bin/python", f"bench/{script}", *(shlex.quote(a) for a in argv)])


def machine() -> dict[str, object]:
    """Facts about the machine and the versions that the figures depend on."""
    info: dict[str, object] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    from importlib import metadata

    for dist in ("duckdb", "dbt-core", "dbt-duckdb", "apache-airflow", "requests"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    return info


def peak_rss_mb() -> float:
    """This process's peak resident set size (``VmHWM``) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's current resident set size (``VmRSS``) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 3600) -> dict:
    """Run a child Python process that prints one JSON object as its last stdout line; return it.

    The child's peak RSS is also read by the parent (``ru_maxrss`` of the waited child) and added
    as ``child_maxrss_mb`` unless the child reported ``peak_rss_mb`` itself.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    proc = subprocess.Popen(
        [PYTHON, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=REPO
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError(f"child timed out after {timeout}s: {' '.join(argv)}\n{err[-3000:]}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {' '.join(argv)}\n{err[-4000:]}")
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not lines:
        raise RuntimeError(f"child printed nothing: {' '.join(argv)}\n{err[-3000:]}")
    return json.loads(lines[-1])


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else float("nan")


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


def fresh_dir(path: Path) -> Path:
    """Empty ``path`` (created if needed) and return it."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def copy_db(src: Path, dest: Path) -> None:
    """Copy a DuckDB file (and its WAL if any) to ``dest``, replacing it."""
    for suffix in ("", ".wal"):
        d = Path(str(dest) + suffix)
        if d.exists():
            d.unlink()
        s = Path(str(src) + suffix)
        if s.exists():
            shutil.copyfile(s, d)


def report(name: str, script: str, argv: Sequence[str], results: dict, lines: list[str]) -> None:
    """Print the figures, the machine and the reproduce command; save them as JSON."""
    cmd = reproduce_command(script, argv)
    info = machine()
    print(f"== {name} ==")
    if "--quick" in argv:  # tiny sizes: fixed costs dominate, so targets say nothing
        print(
            "--quick: tiny sizes, a smoke test of the script; the figures are not the benchmark's "
            "and targets, verdicts and extrapolations are not assessed (run without --quick)"
        )
        lines = [re.sub(r"MEETS TARGET|SHORT OF TARGET", "not assessed (--quick)", line) for line in lines]
    for line in lines:
        print(line)
    print(
        f"machine: {info.get('nproc')} cores {info.get('cpu', '?')}, {info.get('mem_total_gb')} GB RAM, "
        f"load {info['loadavg_1m']}; python {info['python']}, duckdb {info['duckdb']}, "
        f"dbt-core {info['dbt-core']}, dbt-duckdb {info['dbt-duckdb']}, airflow {info['apache-airflow']}"
    )
    print(f"reproduce: {cmd}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "command": cmd,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": info,
        "results": results,
    }
    (DATA_DIR / f"{script.removesuffix('.py')}.json").write_text(json.dumps(payload, indent=2, default=str))


def skipped(name: str, script: str, argv: Sequence[str], reason: str) -> int:
    """Report a benchmark that cannot run yet (a piece is missing); exit code 0."""
    report(name, script, argv, {"skipped": reason}, [f"SKIPPED: {reason}"])
    return 0


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MEETS TARGET" if ok else "SHORT OF TARGET")
