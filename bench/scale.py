"""Benchmark 6 — scale: does cost grow linearly with work? Three org sizes over the same days.

For each size (default 2,000, 10,000 and 20,000 users of one simulated organization, the same
``--days`` days ending the day before ``bench/_history.py``'s new day 2026-11-22), four stages,
each in a fresh child process (its own imports and its own peak RSS, ``VmHWM``):

a. ``backfill`` — ``copilot_warehouse.pipeline.ingest.run_range`` (fetch over HTTP + land + load
   into raw, with the seats snapshot of the last day) into a fresh landing zone and warehouse,
   against the simulator running in its own process (``bench/_simserver.py``). The simulator is
   fast enough at these sizes (``bench/backfill.py`` fetches 730,000 user-days in ~45 s; here
   20,000 users x 28 days is 560,000), so the stage measures the real backfill path — client,
   landing contract, manifests, loader — rather than synthetic landing plus the loader alone.
   The simulator's own work (generating reports) runs in its process, on the other core.
b. ``full_build`` — ``dbt build`` from scratch on a copy of that raw warehouse
   (``copilot_warehouse.transform.dbt_runner.build``, as ``bench/full_build.py``).
c. ``incremental`` — the next day (the new day) fetched and loaded with ``run_range`` (untimed),
   then the daily ``dbt build`` on top of the built history, timed (as ``bench/incremental_build.py``).
d. ``report`` — ``copilot_warehouse.serve.report.build_report`` (``make report``) on the
   incrementally built warehouse: reads the marts read-only, writes the HTML page.

User-days of a stage: users x days it covers (seats, not records: about half the users are active
on a weekday): backfill and full build ``users x days``, the incremental build ``users x 1``
(the day it adds), the report ``users x (days + 1)``. Figures per stage and size: seconds,
user-days, seconds per million user-days, peak RSS of the child. Then per stage:

- growth = (seconds per user-day at the largest size) / (at the smallest). Target <= 1.2x. Fixed
  costs (imports, dbt's parse, the simulator's start) make small sizes dearer per user-day, so
  growth below 1 is expected; the marginal cost (least-squares slope of seconds over user-days
  across the sizes) is printed too, and is what the extrapolation uses.
- peak RSS against the configured caps: the loader's ``COPILOT_LOADER_MEMORY_LIMIT`` (default
  1GB) for the backfill, dbt's ``memory_limit`` from ``dbt/profiles.yml`` (``COPILOT_DBT_MEMORY_LIMIT``,
  default 4GB) for both builds. The report sets none (DuckDB's default cap, 80% of RAM, applies).
  Peak RSS includes Python, dbt and HTTP buffers outside DuckDB's ``memory_limit``: a strict check.
- extrapolation to a year of 50,000 users (18.25 M user-days): intercept + slope x user-days,
  assuming cost stays linear in user-days past the largest size measured, the same machine and
  load, one organization, the simulator's activity mix (about half the seats active per weekday),
  and for the daily build, one day of 50,000 users on any history length (``bench/incremental_build.py``
  measures 365 vs 7 days separately).

dbt's per-node times at every size are kept in the JSON (``nodes``), and the nodes whose time per
user-day grows the most are printed, to find a non-linear model.

    .venv/bin/python bench/scale.py [--sizes 2000,10000,20000] [--days 28] [--repeat 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import _harness as h
import _history as hist
import _simserver as sim

NAME = "scale (cost per user-day at three org sizes)"
SCRIPT = "scale.py"
TARGET_GROWTH = 1.2
YEAR_USERS, YEAR_DAYS = 50_000, 365
STAGES = ("backfill", "full_build", "incremental", "report")
STAGE_LABEL = {
    "backfill": "backfill + load (run_range over HTTP)",
    "full_build": "dbt build from scratch",
    "incremental": "daily incremental dbt build",
    "report": "HTML report",
}


def history(ndays: int) -> list[date]:
    return hist.history_days(ndays)


# --- children ----------------------------------------------------------------------------------
def _child_fetch(
    url: str, token: str, first: date, ndays: int, landing: Path, db: Path, snapshot: bool
) -> dict:
    """``run_range`` of ``ndays`` days from ``first`` into ``db`` (created if absent)."""
    ingest = h.require("copilot_warehouse.pipeline.ingest", "run_range")
    from copilot_warehouse import config
    from copilot_warehouse.extract.client import CopilotClient

    h.fresh_dir(landing)
    client = CopilotClient(url, token)
    scope = config.Scope(config.ORGANIZATION, hist.ORG)
    days = [first + timedelta(days=i) for i in range(ndays)]
    t0 = time.perf_counter()
    summary = ingest.run_range(
        client, [scope], days, str(landing), str(db), snapshot_day=days[-1] if snapshot else None
    )
    seconds = time.perf_counter() - t0
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        users_records = con.execute("select count(*) from raw.copilot_usage_users").fetchone()[0]
    finally:
        con.close()
    return {
        "seconds": seconds,
        "peak_rss_mb": round(h.peak_rss_mb(), 1),
        "records": (summary.get("totals") or {}).get("records") if isinstance(summary, dict) else None,
        "users_records": users_records,
        "errors": summary.get("errors") if isinstance(summary, dict) else None,
        "fetch_seconds": summary.get("fetch_seconds") if isinstance(summary, dict) else None,
        "load_seconds": summary.get("load_seconds") if isinstance(summary, dict) else None,
    }


def _child_report(db: Path, out: Path) -> dict:
    report = h.require("copilot_warehouse.serve.report", "build_report")
    t0 = time.perf_counter()
    path = report.build_report(db, out)
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": round(h.peak_rss_mb(), 1),
        "html_mb": round(path.stat().st_size / 1e6, 2),
    }


def _node_times() -> dict[str, float]:
    """Execution time per dbt node of the last build (``run_results.json``)."""
    path = h.DATA_DIR / "dbt-target" / "run_results.json"
    if not path.exists():
        return {}
    nodes = json.loads(path.read_text()).get("results", [])
    return {n["unique_id"]: round(n.get("execution_time") or 0, 3) for n in nodes}


# --- memory caps ---------------------------------------------------------------------------------
_UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def size_mb(text: str | None) -> float | None:
    """``'1GB'`` -> 1000.0 (DuckDB reads GB as 10^9 bytes, GiB as 2^30); None when unset/unreadable."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]I?B|B)?\s*", (text or "").upper())
    if not m:
        return None
    return float(m.group(1)) * _UNITS[m.group(2) or "B"] / 1e6


def caps() -> dict[str, dict]:
    """The memory caps each stage runs under, with where they come from."""
    out: dict[str, dict] = {}
    try:
        loader = h.require("copilot_warehouse.load.loader", "ENV_MEMORY_LIMIT", "DEFAULT_MEMORY_LIMIT")
        value = os.environ.get(loader.ENV_MEMORY_LIMIT, loader.DEFAULT_MEMORY_LIMIT)
        src = f"{loader.ENV_MEMORY_LIMIT} (loader default {loader.DEFAULT_MEMORY_LIMIT})"
    except h.Missing:
        value, src = None, "loader memory cap not available"
    out["backfill"] = {"cap": value, "mb": size_mb(value), "source": src}
    profile = (h.REPO / "dbt" / "profiles.yml").read_text()
    m = re.search(r"memory_limit:.*env_var\('([A-Z_]+)',\s*'([^']+)'\)", profile)
    if m:
        value = os.environ.get(m.group(1), m.group(2))
        src = f"{m.group(1)} (dbt/profiles.yml default {m.group(2)})"
    else:
        value, src = None, "no memory_limit in dbt/profiles.yml"
    for stage in ("full_build", "incremental"):
        out[stage] = {"cap": value, "mb": size_mb(value), "source": src}
    total_mb = None
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            total_mb = int(line.split()[1]) * 1024 / 1e6
    out["report"] = {
        "cap": None,
        "mb": round(0.8 * total_mb) if total_mb else None,
        "source": "none set by the report: DuckDB's default memory_limit, 80% of RAM",
    }
    return out


# --- one size -------------------------------------------------------------------------------------
def run_size(users: int, ndays: int, repeat: int, work: Path) -> dict:
    days = history(ndays)
    new = hist.new_day()
    raw, built = work / f"raw-u{users}.duckdb", work / f"built-u{users}.duckdb"
    db = work / "warehouse.duckdb"
    landing = work / "landing"
    out: dict = {"users": users, "days": ndays, "stages": {s: [] for s in STAGES}, "nodes": {}}
    with sim.SimProcess(users=users, start_day=days[0], end_day=new) as server:
        for _ in range(repeat):
            h.copy_db(Path("/nonexistent"), raw)
            child = [
                __file__,
                "--child",
                "fetch",
                server.url,
                server.token,
                days[0].isoformat(),
                str(ndays),
                str(landing),
                str(raw),
                "snapshot",
            ]
            r = h.run_child(child, timeout=7200)
            if r.get("errors"):
                raise RuntimeError(f"backfill errors: {r['errors']}")
            out["stages"]["backfill"].append(r)
            server.take_requests()
        out["raw_records"] = r["records"]
        out["users_records"] = r["users_records"]
        out["raw_mb"] = round(raw.stat().st_size / 1e6, 1)
        for _ in range(repeat):
            h.copy_db(raw, db)
            r = hist.build_in_child(db)
            if r["success"] is False:
                raise RuntimeError(f"full dbt build failed at {users} users: {r['result']}")
            out["stages"]["full_build"].append(r)
        out["nodes"]["full_build"] = _node_times()
        h.copy_db(db, built)
        child = [
            __file__,
            "--child",
            "fetch",
            server.url,
            server.token,
            new.isoformat(),
            "1",
            str(landing),
            str(built),
            "-",
        ]
        out["new_day_load"] = h.run_child(child, timeout=3600)
        server.take_requests()
    h.fresh_dir(landing)
    for _ in range(repeat):
        h.copy_db(built, db)
        r = hist.build_in_child(db)
        if r["success"] is False:
            raise RuntimeError(f"incremental dbt build failed at {users} users: {r['result']}")
        out["stages"]["incremental"].append(r)
    out["nodes"]["incremental"] = _node_times()
    out["warehouse_mb"] = round(db.stat().st_size / 1e6, 1)
    for _ in range(repeat):
        r = h.run_child([__file__, "--child", "report", str(db), str(work / "report")], timeout=3600)
        out["stages"]["report"].append(r)
    for path in (raw, built, db):
        h.copy_db(Path("/nonexistent"), path)
    return out


def user_days(stage: str, users: int, ndays: int) -> int:
    return users * {"backfill": ndays, "full_build": ndays, "incremental": 1, "report": ndays + 1}[stage]


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope of seconds over user-days."""
    if len(points) < 2:
        x, y = points[0]
        return 0.0, y / x
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else my / mx
    return my - slope * mx, slope


def _growth_nodes(sizes: list[dict], kind: str, ud_of, top: int = 5) -> list[tuple[str, float, float, float]]:
    """dbt nodes whose seconds per user-day grow most from the smallest to the largest size."""
    small, large = sizes[0], sizes[-1]
    a, b = small["nodes"].get(kind, {}), large["nodes"].get(kind, {})
    us, ul = ud_of(small), ud_of(large)
    rows = []
    for node, tl in b.items():
        ts = a.get(node)
        if ts is None or ts <= 0.05 or tl <= 0.5:
            continue
        rows.append((node.split(".", 2)[-1], ts, tl, (tl / ul) / (ts / us)))
    rows.sort(key=lambda r: -(r[2] - r[1] * ul / us))  # most extra seconds beyond linear first
    return rows[:top]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2000,10000,20000", help="comma-separated users per size")
    ap.add_argument("--days", type=int, default=28, help="days of history at every size")
    ap.add_argument("--repeat", type=int, default=1, help="runs of every stage per size (median)")
    ap.add_argument(
        "--quick", action="store_true", help="tiny sizes for smoke tests (10 and 20 users, 2 days)"
    )
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        try:
            if kind == "fetch":
                url, token, first, ndays, landing, db, snap = rest
                res = _child_fetch(
                    url,
                    token,
                    date.fromisoformat(first),
                    int(ndays),
                    Path(landing),
                    Path(db),
                    snap == "snapshot",
                )
            else:
                res = _child_report(Path(rest[0]), Path(rest[1]))
        except h.Missing as exc:
            print(f"Missing: {exc}", file=sys.stderr)
            return 3
        print(json.dumps(res, default=str))
        return 0
    if args.quick:
        args.sizes, args.days, args.repeat = "10,20", 2, 1
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    try:
        h.require("copilot_dev.simulator", "SimulatorServer", "SimulatorConfig")
        h.require("copilot_warehouse.pipeline.ingest", "run_range")
        h.require("copilot_warehouse.serve.report", "build_report")
    except h.Missing as exc:
        return h.skipped(NAME, SCRIPT, argv, str(exc))
    work = h.DATA_DIR / "scale"
    work.mkdir(parents=True, exist_ok=True)
    limits = caps()
    measured, error = [], None
    t_all = time.perf_counter()
    for users in sizes:
        t0 = time.perf_counter()
        try:
            measured.append(run_size(users, args.days, max(1, args.repeat), work))
        except RuntimeError as exc:
            error = str(exc)[-2000:]
            break
        print(
            f"[{users:,} users: {time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.2f}]", flush=True
        )
    days = history(args.days)
    lines = [
        f"one organization, {args.days} days ({days[0]}..{days[-1]}) + new day {hist.new_day()}, sizes "
        f"{', '.join(f'{u:,}' for u in sizes)} users; median of {args.repeat} run(s) per stage; "
        "simulator over HTTP",
        f"{'stage':<38} {'users':>7} {'user-days':>10} {'seconds':>8} {'s/M user-days':>14} {'peak RSS':>9}",
    ]
    results: dict = {
        "sizes": sizes,
        "days": args.days,
        "new_day": hist.new_day().isoformat(),
        "target_growth": TARGET_GROWTH,
        "caps": limits,
        "per_size": measured,
        "stages": {},
    }
    for stage in STAGES:
        rows = []
        for m in measured:
            runs = m["stages"][stage]
            if not runs:
                continue
            sec = h.median(r["seconds"] for r in runs)
            ud = user_days(stage, m["users"], m["days"])
            peak = max(r["peak_rss_mb"] for r in runs)
            rows.append(
                {
                    "users": m["users"],
                    "user_days": ud,
                    "seconds": round(sec, 3),
                    "runs_seconds": [round(r["seconds"], 2) for r in runs],
                    "s_per_m_user_days": round(sec / ud * 1e6, 2),
                    "peak_rss_mb": peak,
                }
            )
            lines.append(
                f"{STAGE_LABEL[stage]:<38} {m['users']:>7,} {ud:>10,} {sec:>8.1f} "
                f"{sec / ud * 1e6:>14.1f} {peak:>6.0f} MB"
            )
        if not rows:
            continue
        entry: dict = {"rows": rows}
        cap = limits[stage]
        peak_max = max(r["peak_rss_mb"] for r in rows)
        entry["peak_rss_mb_max"] = peak_max
        entry["under_cap"] = None if cap["mb"] is None else peak_max <= cap["mb"]
        if len(rows) >= 2:
            growth = (rows[-1]["seconds"] / rows[-1]["user_days"]) / (
                rows[0]["seconds"] / rows[0]["user_days"]
            )
            intercept, slope = fit([(r["user_days"], r["seconds"]) for r in rows])
            # marginal growth: the last step's seconds per added user-day vs the first step's
            steps = [
                (b["seconds"] - a["seconds"]) / (b["user_days"] - a["user_days"])
                for a, b in zip(rows, rows[1:], strict=False)
            ]
            entry.update(
                growth=round(growth, 3),
                intercept_s=round(intercept, 2),
                slope_s_per_m_user_days=round(slope * 1e6, 2),
                marginal_s_per_m_user_days=[round(s * 1e6, 2) for s in steps],
            )
            target_ud = YEAR_USERS * (1 if stage == "incremental" else YEAR_DAYS)
            # the fit, unless noise at tiny sizes makes its slope negative: then proportional to the largest
            year = (
                intercept + slope * target_ud
                if slope > 0
                else rows[-1]["seconds"] * target_ud / rows[-1]["user_days"]
            )
            entry["year_50k"] = {
                "user_days": target_ud,
                "seconds": round(year, 1),
                "method": "fit" if slope > 0 else "proportional to the largest size",
            }
        results["stages"][stage] = entry
    lines.append("")
    for stage, e in results["stages"].items():
        cap = limits[stage]
        cap_text = cap["cap"] or f"~{cap['mb']} MB"
        state = "n/a" if e["under_cap"] is None else ("under" if e["under_cap"] else "OVER")
        mem = f"peak {e['peak_rss_mb_max']:.0f} MB vs cap {cap_text} [{cap['source']}]: {state}"
        if "growth" in e:
            lines.append(
                f"{STAGE_LABEL[stage]}: s/user-day largest/smallest {e['growth']:.2f}x "
                f"(target <= {TARGET_GROWTH}x): "
                f"{h.verdict(e['growth'] <= TARGET_GROWTH)}; fit {e['intercept_s']:.1f} s + "
                f"{e['slope_s_per_m_user_days']:.1f} s/M user-days (marginal per step "
                f"{', '.join(format(s, '.1f') for s in e['marginal_s_per_m_user_days'])}); {mem}"
            )
        else:
            lines.append(f"{STAGE_LABEL[stage]}: {mem}")
    if len(measured) >= 2:
        for kind in ("full_build", "incremental"):
            grow = _growth_nodes(measured, kind, lambda m, k=kind: user_days(k, m["users"], m["days"]))
            if grow:
                lines.append(
                    f"{kind} nodes with most time beyond linear "
                    f"({measured[0]['users']:,} -> {measured[-1]['users']:,}): "
                    + "; ".join(f"{n} {a:.2f}->{b:.2f}s ({g:.2f}x/user-day)" for n, a, b, g in grow)
                )
        lines.append(
            f"extrapolated to {YEAR_USERS:,} users x {YEAR_DAYS} days "
            f"({YEAR_USERS * YEAR_DAYS / 1e6:.2f} M user-days; "
            "daily build: one day of 50,000 users) as fit intercept + slope x user-days "
            "(* = slope <= 0 under noise: proportional to the largest size instead): "
            + ", ".join(
                f"{s} {e['year_50k']['seconds']:,.0f} s{'' if e['year_50k']['method'] == 'fit' else '*'}"
                for s, e in results["stages"].items()
                if "year_50k" in e
            )
        )
        lines.append(
            "  assumptions: cost linear in user-days beyond the largest size; same machine and load; "
            "one org; the simulator's activity mix; daily build independent of history length; "
            "memory bounded by the caps"
        )
    results["total_seconds"] = round(time.perf_counter() - t_all, 1)
    lines.append(f"total wall time {results['total_seconds']:.0f} s")
    if error:
        results["error"] = error
        lines.append(f"ERROR: {error.strip().splitlines()[-1] if error.strip() else error}")
    h.report(NAME, SCRIPT, argv, results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
