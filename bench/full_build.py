"""Benchmark 4 — full build: ``dbt build`` from scratch on 365 days x 2,000 users.

A raw warehouse with 365 days of one simulated organization of 2,000 users (plus a seat
snapshot) is built once and cached (``bench/_history.py``). Each run copies it, then runs
``copilot_warehouse.transform.dbt_runner.build`` in a fresh child process (models and tests, no staging or
marts yet). Figure: seconds of the build call, median of ``--repeat`` runs. Target: under 60 s.

    .venv/bin/python bench/full_build.py [--users 2000] [--days 365] [--repeat 3] [--rebuild] [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _harness as h
import _history as hist

NAME = "full build (dbt build from scratch)"
SCRIPT = "full_build.py"
TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached raw warehouse")
    ap.add_argument("--quick", action="store_true", help="tiny size for smoke tests (20 users, 3 days)")
    args = ap.parse_args(argv)
    if args.quick:
        args.users, args.days, args.repeat = 20, 3, 1
    try:
        raw, info = hist.build_raw(args.users, args.days, rebuild=args.rebuild)
    except h.Missing as exc:
        return h.skipped(NAME, SCRIPT, argv, str(exc))
    work = h.DATA_DIR / "full_build"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "warehouse.duckdb"
    runs, error = [], None
    for _ in range(args.repeat):
        h.copy_db(raw, db)
        try:
            r = hist.build_in_child(db)
        except RuntimeError as exc:
            error = str(exc)[-1500:]
            break
        runs.append(r)
        if r["success"] is False:
            error = "dbt build failed: " + r["result"]
            break
    h.copy_db(Path("/nonexistent"), db)
    lines = [
        f"raw: {info['days']} days ({info['first']}..{info['last']}) x {info['users']:,} users, "
        f"{info['records']:,} records in {info['partitions']:,} partitions, {info['db_mb']} MB "
        f"(built in {info['build_seconds']} s, cached)",
    ]
    results: dict = {"raw": info, "target_s": TARGET_S}
    if runs:
        sec = h.median(r["seconds"] for r in runs)
        results.update(
            seconds=round(sec, 2),
            runs_seconds=[round(r["seconds"], 2) for r in runs],
            via=runs[0]["via"],
            peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
            success=all(r["success"] is not False for r in runs),
        )
        lines.append(
            f"dbt build from scratch: {sec:.1f} s (median of {len(runs)}; runs "
            f"{', '.join(format(r['seconds'], '.1f') for r in runs)} s) via {runs[0]['via']}; "
            f"peak RSS {results['peak_rss_mb']:.0f} MB"
        )
        results["slowest_nodes"] = runs[-1]["slowest_nodes"]
        results["counts"] = runs[-1]["counts"]
        if runs[-1]["slowest_nodes"]:
            lines.append(
                "slowest nodes: "
                + ", ".join(f"{n.split('.', 2)[-1]} {t:.1f}s" for n, t in runs[-1]["slowest_nodes"][:6])
            )
        lines.append(f"target < {TARGET_S:.0f} s: {h.verdict(sec < TARGET_S and not error)}")
    if error:
        results["error"] = error
        lines.append(f"ERROR: {error.strip().splitlines()[-1] if error.strip() else error}")
    h.report(NAME, SCRIPT, argv, results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
