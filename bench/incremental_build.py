"""Benchmark 3 — daily incremental build: one new day on top of 365 days vs on top of 7 days.

For each history length (365 and 7 days of one simulated organization of 2,000 users; the 7
days are the last 7 of the 365): copy the cached raw warehouse, run a first ``dbt build``
(untimed: the state a daily run finds), land and load the next day with the project's loader,
and keep that as the starting state. Each measured run copies the starting state and runs
``copilot_warehouse.transform.dbt_runner.build`` in a fresh child process (as the transform task does).
Figure: seconds of the build call (median of ``--repeat``), and 365-day / 7-day. Target <= 1.5x.

    .venv/bin/python bench/incremental_build.py [--users 2000] [--days 365] [--small-days 7]
        [--repeat 3] [--rebuild] [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _harness as h
import _history as hist

NAME = "daily incremental build (1 new day on 365 vs 7 days)"
SCRIPT = "incremental_build.py"
TARGET_RATIO = 1.5


def _starting_state(users: int, ndays: int, rebuild: bool, work: Path) -> tuple[Path, dict, dict]:
    """Raw history + first build + the new day loaded: the state a daily transform run finds."""
    raw, info = hist.build_raw(users, ndays, rebuild=rebuild)
    state = work / f"state-d{ndays}.duckdb"
    h.copy_db(raw, state)
    first = hist.build_in_child(state)
    if first["success"] is False:
        raise RuntimeError(f"first dbt build on {ndays} days failed: {first['result']}")
    hist.load_new_day(state, users)
    return state, info, first


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--days", type=int, default=365, help="long history")
    ap.add_argument("--small-days", type=int, default=7, help="short history")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached raw warehouses")
    ap.add_argument("--quick", action="store_true", help="tiny size for smoke tests (20 users, 6 vs 3 days)")
    args = ap.parse_args(argv)
    if args.quick:
        args.users, args.days, args.small_days, args.repeat = 20, 6, 3, 1
    work = h.DATA_DIR / "incremental_build"
    work.mkdir(parents=True, exist_ok=True)
    states: dict[int, tuple[Path, dict, dict]] = {}
    try:
        for ndays in (args.days, args.small_days):
            states[ndays] = _starting_state(args.users, ndays, args.rebuild, work)
    except h.Missing as exc:
        return h.skipped(NAME, SCRIPT, argv, str(exc))
    except RuntimeError as exc:
        lines = [f"ERROR preparing the starting state: {str(exc).strip()[-600:]}"]
        h.report(NAME, SCRIPT, argv, {"error": str(exc)[-2000:]}, lines)
        return 0

    runs: dict[int, list[dict]] = {n: [] for n in states}
    error = None
    db = work / "warehouse.duckdb"
    for _ in range(args.repeat):
        for ndays, (state, _info, _first) in states.items():  # interleaved against machine noise
            h.copy_db(state, db)
            try:
                r = hist.build_in_child(db)
            except RuntimeError as exc:
                error = str(exc)[-1500:]
                break
            if r["success"] is False:
                error = f"dbt build on {ndays} days failed: {r['result']}"
                break
            runs[ndays].append(r)
        if error:
            break
    h.copy_db(Path("/nonexistent"), db)

    results: dict = {"target_ratio": TARGET_RATIO, "users": args.users, "new_day": hist.new_day().isoformat()}
    lines = [
        f"one organization x {args.users:,} users; new day {hist.new_day()}; median of {args.repeat} run(s)"
    ]
    for ndays, (_state, info, first) in states.items():
        rs = runs[ndays]
        entry = {
            "raw": info,
            "first_build_seconds": round(first["seconds"], 2),
            "via": first["via"],
        }
        if rs:
            entry.update(
                seconds=round(h.median(r["seconds"] for r in rs), 2),
                runs_seconds=[round(r["seconds"], 2) for r in rs],
                peak_rss_mb=max(r["peak_rss_mb"] for r in rs),
                slowest_nodes=rs[-1]["slowest_nodes"],
                counts=rs[-1]["counts"],
            )
            lines.append(
                f"{ndays:>4} days history ({info['records']:,} raw records): incremental build "
                f"{entry['seconds']:.1f} s (runs {', '.join(format(r['seconds'], '.1f') for r in rs)}); "
                f"first full build {first['seconds']:.1f} s"
            )
            if rs[-1]["slowest_nodes"]:
                lines.append(
                    "      slowest nodes: "
                    + ", ".join(f"{n.split('.', 2)[-1]} {t:.1f}s" for n, t in rs[-1]["slowest_nodes"][:6])
                )
        results[f"days_{ndays}"] = entry
    big, small = results[f"days_{args.days}"], results[f"days_{args.small_days}"]
    if "seconds" in big and "seconds" in small:
        ratio = big["seconds"] / small["seconds"]
        results["ratio"] = round(ratio, 3)
        lines.append(
            f"{args.days} days / {args.small_days} days: {ratio:.2f}x (target <= {TARGET_RATIO}x): "
            f"{h.verdict(ratio <= TARGET_RATIO)}  [via {big['via']}]"
        )
    if error:
        results["error"] = error
        lines.append(f"ERROR: {error.strip().splitlines()[-1] if error.strip() else error}")
    h.report(NAME, SCRIPT, argv, results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
