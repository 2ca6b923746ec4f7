"""Run every benchmark and print its figures, the machine and the commands that reproduce them.

    .venv/bin/python bench/run_all.py            # full sizes (minutes; run on a quiet machine)
    .venv/bin/python bench/run_all.py --quick    # tiny sizes: a smoke test of every script
    .venv/bin/python bench/run_all.py --only parse_and_land,dag_parse

Each script runs in its own process; results are also written to ``data/bench/<script>.json``
(``COPILOT_BENCH_DATA`` moves that folder). The sizes of the full run are each script's defaults.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import _harness as h

SCRIPTS = ("parse_and_land", "backfill", "incremental_build", "full_build", "dag_parse", "bytes", "scale")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--only", default="", help="comma-separated script names to run")
    args = ap.parse_args(argv)
    chosen = [s for s in SCRIPTS if not args.only or s in args.only.split(",")]
    info = h.machine()
    print(
        f"machine: {info['nproc']} cores {info.get('cpu', '?')}, {info.get('mem_total_gb')} GB RAM, "
        f"1-min load {info['loadavg_1m']} (figures are noisy when other work runs)"
    )
    failed = []
    for name in chosen:
        cmd = [h.PYTHON, str(h.BENCH_DIR / f"{name}.py")] + (["--quick"] if args.quick else [])
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, cwd=h.REPO)
        print(f"[{name}: exit {rc}, {time.perf_counter() - t0:.0f} s]\n", flush=True)
        if rc != 0:
            failed.append(name)
    print("== summary ==")
    for name in chosen:
        path = h.DATA_DIR / f"{name}.json"
        if path.exists():
            res = json.loads(path.read_text())
            print(f"{name}: {json.dumps(_headline(name, res['results']))}")
            print(f"  reproduce: {res['command']}")
    print(f"reproduce all: .venv/bin/python bench/run_all.py{' --quick' if args.quick else ''}")
    return 1 if failed else 0


def _headline(name: str, r: dict) -> dict:
    """The few figures that matter per benchmark."""
    if "skipped" in r:
        return {"skipped": r["skipped"]}
    keys = {
        "parse_and_land": ("ratio_n", "ratio_2n", "loader_peak_mb", "loader_peak_growth"),
        "backfill": ("minimum_calls", "time_ratio", "pair_ratio_median", "connections_ratio"),
        "incremental_build": ("ratio",),
        "full_build": ("seconds",),
        "bytes": ("warehouse_load_ratio", "warehouse_load_checkpoint_ratio"),
    }.get(name, ())
    out = {k: r.get(k) for k in keys}
    if name == "parse_and_land":
        n = r.get("sizes", {}).get("N", {})
        out["loader_rps"] = n.get("loader", {}).get("records_per_s")
        out["ceiling_rps"] = n.get("ceiling", {}).get("records_per_s")
    elif name == "backfill":
        out["run_range_calls"] = r.get("run_range", {}).get("calls", {}).get("total")
        out["run_range_s"] = r.get("run_range", {}).get("seconds")
        out["download_only_s"] = r.get("download_only", {}).get("seconds")
    elif name == "incremental_build":
        out.update({k: v.get("seconds") for k, v in r.items() if k.startswith("days_")})
    elif name == "bytes":
        loads = r.get("loads", {})
        out["landing_bytes_per_user_day"] = {
            k: v.get("bytes_per_user_day") for k, v in loads.get("landing", {}).items()
        }
        out["warehouse_bytes_per_user_day"] = {
            k: v.get("bytes_per_user_day") for k, v in loads.get("warehouse", {}).items()
        }
    elif name == "scale":
        out = {
            s: {
                "growth": e.get("growth"),
                "peak_rss_mb": e.get("peak_rss_mb_max"),
                "under_cap": e.get("under_cap"),
            }
            for s, e in r.get("stages", {}).items()
        }
    elif name == "dag_parse":
        out = {f: v.get("dag_s", v.get("error")) for f, v in r.get("files", {}).items()}
    if "error" in r:
        out["error"] = str(r["error"]).strip().splitlines()[-1][:200] if str(r["error"]).strip() else "?"
    return out


if __name__ == "__main__":
    sys.exit(main())
