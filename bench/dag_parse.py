"""Benchmark 5 — DAG parse: import time of each DAG file beyond importing ``airflow.sdk``.

For every ``dags/*.py`` file, ``--repeat`` fresh child processes each import ``airflow.sdk`` (timed
separately), then execute the DAG file as the DAG processor would (timed: this is the figure),
and count the DAG objects it defined. Target: under 0.2 s per file (median).
Children run with a private ``AIRFLOW_HOME`` under ``data/bench`` so no user config is touched.

    .venv/bin/python bench/dag_parse.py [--repeat 7] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import _harness as h

NAME = "DAG parse (import beyond airflow.sdk)"
SCRIPT = "dag_parse.py"
TARGET_S = 0.2


def _child(path: Path) -> dict:
    import importlib.util

    sys.path.insert(0, str(path.parent))  # the DAG processor puts the dags folder on sys.path
    t0 = time.perf_counter()
    import airflow.sdk

    t1 = time.perf_counter()
    from airflow.sdk.definitions._internal.contextmanager import DagContext

    name = f"unusual_prefix_bench_{path.stem}"
    t1 = time.perf_counter()
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    DagContext.current_autoregister_module_name = name  # as the DAG processor does
    spec.loader.exec_module(module)
    t2 = time.perf_counter()
    dags = {v.dag_id for v in vars(module).values() if isinstance(v, airflow.sdk.DAG)}
    # DAGs made by calling a @dag function without keeping the result register here
    dags |= {d.dag_id for d, _ in DagContext.autoregistered_dags}
    dags = sorted(dags)
    return {"sdk_s": t1 - t0, "dag_s": t2 - t1, "dags": dags, "modules": len(sys.modules)}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="one run per file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(Path(args.child))))
        return 0
    if args.quick:
        args.repeat = 1
    files = sorted(p for p in (h.REPO / "dags").glob("*.py") if not p.name.startswith("_"))
    if not files:
        return h.skipped(NAME, SCRIPT, argv, "no DAG files in dags/ yet")
    home = h.DATA_DIR / "airflow_home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(h.REPO / "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    results: dict = {"files": {}, "target_s": TARGET_S, "repeat": args.repeat}
    lines = [f"median of {args.repeat} fresh process(es) per file"]
    ok = True
    for path in files:
        runs = []
        error = None
        for _ in range(args.repeat):
            try:
                runs.append(h.run_child([__file__, "--child", str(path)], env=env, timeout=300))
            except RuntimeError as exc:
                error = str(exc)[-800:]
                break
        if error:
            results["files"][path.name] = {"error": error}
            lines.append(f"{path.name}: FAILED {error.splitlines()[-1] if error else ''}")
            ok = False
            continue
        dag_s = h.median(r["dag_s"] for r in runs)
        sdk_s = h.median(r["sdk_s"] for r in runs)
        results["files"][path.name] = {
            "dag_s": round(dag_s, 4),
            "sdk_s": round(sdk_s, 3),
            "runs_dag_s": [round(r["dag_s"], 4) for r in runs],
            "dags": runs[0]["dags"],
        }
        ok = ok and dag_s < TARGET_S
        lines.append(
            f"{path.name}: {h.fmt_s(dag_s)} beyond airflow.sdk (which took {h.fmt_s(sdk_s)}); "
            f"DAGs {', '.join(runs[0]['dags']) or 'none'}: {h.verdict(dag_s < TARGET_S)}"
        )
    lines.append(f"all files under {TARGET_S} s: {h.verdict(ok)}")
    h.report(NAME, SCRIPT, argv, results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
