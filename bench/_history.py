"""Raw-warehouse fixtures for the dbt benchmarks: N days of one simulated organization.

Reports come from the simulator's deterministic ``Dataset`` (the records the HTTP server would
serve), are landed with ``landing.write_partition`` and loaded with ``loader.load_partition``,
exactly as ingest does after a download, minus the HTTP. A seats/billing snapshot of the last
day is loaded with ``loader.load_snapshot``. Built warehouses are cached under
``data/bench/history/`` (``--rebuild`` in the scripts drops the cache).

Every fixture uses the same simulator configuration (history start .. one day past the longest
history), so the 7-day history is exactly the last 7 days of the 365-day one and the "new day"
is the same day in both.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import _harness as h

ORG = "bench-org"
SIM_DAYS = 366  # the longest history (365) plus the new day
# A fixed, already published new day (so no model can treat it as "future"), 365 days before it.
NEW_DAY = date(2026, 11, 22)
FIRST_DAY = NEW_DAY - timedelta(days=SIM_DAYS - 1)
PARTS = 2
CACHE = h.DATA_DIR / "history"


def sim_config(users: int):
    from copilot_dev.simulator.data import SimulatorConfig

    return SimulatorConfig(
        orgs=(ORG,),
        enterprises=(),
        users_per_org=users,
        start_day=FIRST_DAY,
        end_day=FIRST_DAY + timedelta(days=SIM_DAYS - 1),
        parts=PARTS,
    )


def history_days(ndays: int) -> list[date]:
    """The last ``ndays`` days before the new day."""
    new = new_day()
    return [new - timedelta(days=ndays - i) for i in range(ndays)]


def new_day() -> date:
    return NEW_DAY


def land_and_load(con, dataset, days: list[date], landing_root: Path, load_id: str) -> dict:
    """Land every daily report of ``days`` and load it into raw; returns counts."""
    from copilot_dev.simulator.data import split_parts
    from copilot_warehouse import config
    from copilot_warehouse.land import zone
    from copilot_warehouse.load import loader

    scope = config.Scope(config.ORGANIZATION, ORG)
    records = partitions = 0
    for day in days:
        for report in config.DAILY_REPORTS[config.ORGANIZATION]:
            lines = dataset.report_lines(scope, report, day)
            if lines is None:
                zone.write_partition(landing_root, scope, report, day, 204)
                loader.record_status(con, scope, report, day, "no_report", 204, "no report", load_id)
                continue
            files = {
                zone.part_name(k + 1): "".join(line + "\n" for line in part).encode()
                for k, part in enumerate(split_parts(lines, PARTS))
            }
            zone.write_partition(landing_root, scope, report, day, 200, files)
            result = loader.load_partition(con, scope, report, day, str(landing_root), load_id)
            records += result.records
            partitions += 1
        shutil.rmtree(landing_root / "organization", ignore_errors=True)  # keep the disk small
    return {"records": records, "partitions": partitions}


def build_raw(users: int, ndays: int, *, rebuild: bool = False) -> tuple[Path, dict]:
    """A cached raw warehouse with the ``ndays`` days before the new day and a seat snapshot."""
    h.require("copilot_warehouse.load.loader", "load_partition", "load_snapshot", "record_status")
    h.require("copilot_warehouse.land.zone", "write_partition")
    from copilot_dev.simulator.data import Dataset
    from copilot_warehouse import config, warehouse

    CACHE.mkdir(parents=True, exist_ok=True)
    # One cache per warehouse compression (COPILOT_WAREHOUSE_COMPRESSION), so that plain and zstd
    # raw warehouses can be compared; "-zstd" also keeps a cache built by older (plain) code from
    # being taken for a compressed one (every timed dbt build would then migrate it first).
    compression = config.warehouse_compression()
    db = CACHE / f"raw-{ORG}-u{users}-d{ndays}-{compression}.duckdb"
    info_file = Path(str(db) + ".json")
    if db.exists() and info_file.exists() and not rebuild:
        return db, json.loads(info_file.read_text())
    h.copy_db(Path("/nonexistent"), db)
    dataset = Dataset(sim_config(users))
    if hasattr(dataset, "_compute_day_state"):
        # Dataset.seats() walks each member back to the seat start (more days than its LRU cache
        # of 512 day states holds for a 366-day range): without this it takes many minutes.
        from functools import lru_cache

        dataset._day_state = lru_cache(maxsize=None)(dataset._compute_day_state)
    days = history_days(ndays)
    t0 = time.perf_counter()
    con = warehouse.connect(db)
    counts = land_and_load(con, dataset, days, h.fresh_dir(CACHE / "landing"), "bench-history")
    scope = config.Scope(config.ORGANIZATION, ORG)
    from copilot_warehouse.load import loader

    loader.load_snapshot(con, scope, days[-1], dataset.billing(scope), dataset.seats(scope), "bench-history")
    con.execute("checkpoint")
    con.close()
    info = {
        "users": users,
        "days": ndays,
        "first": days[0].isoformat(),
        "last": days[-1].isoformat(),
        "build_seconds": round(time.perf_counter() - t0, 1),
        **counts,
        "db_mb": round(db.stat().st_size / 1e6, 1),
        "warehouse_compression": compression,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    info_file.write_text(json.dumps(info))
    return db, info


def load_new_day(db: Path, users: int) -> dict:
    """Land and load the new day (after the history) into ``db``."""
    from copilot_dev.simulator.data import Dataset
    from copilot_warehouse import warehouse

    con = warehouse.connect(db)
    try:
        return land_and_load(
            con, Dataset(sim_config(users)), [new_day()], h.fresh_dir(CACHE / "landing-new"), "bench-new-day"
        )
    finally:
        con.execute("checkpoint")
        con.close()


# --- running dbt build -------------------------------------------------------------------------
def dbt_env(db: Path) -> dict[str, str]:
    """Environment of a dbt child: the warehouse file, and target/log folders of the benchmarks."""
    return {
        "COPILOT_WAREHOUSE_PATH": str(db),
        "DBT_TARGET_PATH": str(h.DATA_DIR / "dbt-target"),
        "DBT_LOG_PATH": str(h.DATA_DIR / "dbt-logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def run_build(db: Path, *, full_refresh: bool = False) -> dict:
    """In this (fresh) process: ``dbt build`` via ``copilot_warehouse.transform.dbt_runner.build``.

    Falls back to dbt's own ``dbtRunner`` (same project and profile) while ``dbt_runner`` does
    not exist yet; the result says which was used.
    """
    import inspect
    import os

    os.environ.update(dbt_env(db))
    t0 = time.perf_counter()
    try:
        runner = h.require("copilot_warehouse.transform.dbt_runner", "build")
    except h.Missing:
        runner = None
    if runner is not None:
        via = "copilot_warehouse.transform.dbt_runner.build"
        sig = inspect.signature(runner.build)
        kwargs = {}
        for name in sig.parameters:
            if name in ("warehouse_path", "warehouse", "db_path", "path"):
                kwargs[name] = str(db)
            elif name == "full_refresh":
                kwargs[name] = full_refresh
            elif name == "target_path":
                kwargs[name] = str(h.DATA_DIR / "dbt-target")
        t1 = time.perf_counter()
        result = runner.build(**kwargs)
        seconds = time.perf_counter() - t1
        ok = _success(result)
    else:
        from dbt.cli.main import dbtRunner

        via = "dbt.cli.main.dbtRunner (fallback: copilot_warehouse.transform.dbt_runner absent)"
        project = str(h.REPO / "dbt")
        args = ["build", "--project-dir", project, "--profiles-dir", project, "--quiet"]
        if full_refresh:
            args.append("--full-refresh")
        t1 = time.perf_counter()
        result = dbtRunner().invoke(args)
        seconds = time.perf_counter() - t1
        ok = bool(result.success)
    slowest, counts = [], getattr(result, "counts", None)
    results_file = h.DATA_DIR / "dbt-target" / "run_results.json"
    if runner is not None and results_file.exists():
        nodes = json.loads(results_file.read_text()).get("results", [])
        nodes.sort(key=lambda n: -(n.get("execution_time") or 0))
        slowest = [[n["unique_id"], round(n.get("execution_time") or 0, 2)] for n in nodes[:10]]
        counts = counts or {"nodes": len(nodes)}
    return {
        "via": via,
        "seconds": seconds,
        "slowest_nodes": slowest,
        "counts": counts,
        "import_seconds": t1 - t0,
        "success": ok,
        "peak_rss_mb": round(h.peak_rss_mb(), 1),
        "result": repr(result)[:300],
    }


def _success(result: object) -> bool | None:
    if result is None:
        return None
    if isinstance(result, bool):
        return result
    if isinstance(result, int):
        return result == 0
    if isinstance(result, dict):
        for key in ("success", "ok"):
            if key in result:
                return bool(result[key])
        if "returncode" in result:
            return result["returncode"] == 0
    for attr in ("success", "ok"):
        if hasattr(result, attr):
            return bool(getattr(result, attr))
    if hasattr(result, "returncode"):
        return result.returncode == 0
    return None


def build_in_child(db: Path, *, full_refresh: bool = False, timeout: float = 3600) -> dict:
    """Run :func:`run_build` in a fresh child process (as an Airflow task would) and return its figures."""
    argv = [__file__, "build", str(db)] + (["--full-refresh"] if full_refresh else [])
    return h.run_child(argv, env=dbt_env(db), timeout=timeout)


if __name__ == "__main__":
    import sys

    if len(sys.argv) >= 3 and sys.argv[1] == "build":
        print(json.dumps(run_build(Path(sys.argv[2]), full_refresh="--full-refresh" in sys.argv)))
    else:
        raise SystemExit("usage: _history.py build DB [--full-refresh]")
