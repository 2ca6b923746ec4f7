"""Benchmark 6 — bytes per user-day: the landing zone and the warehouse, plain and compressed.

One synthetic ``users-1-day`` day of N users (the simulator's records, as ``parse_and_land.py``
writes them) is landed through the landing zone's writer once per landing compression the landing
zone supports (``config.LANDING_COMPRESSIONS``: ``none``, ``gzip``, and whatever else it offers),
then loaded with ``loader.load_partition`` into a fresh warehouse once per warehouse compression
(``config.WAREHOUSE_COMPRESSIONS``: ``zstd``, the default, stores raw JSON text zstd-compressed;
``none`` is DuckDB's default string compression, as before) — every combination, interleaved, in
fresh child processes, ``--repeat`` times.

Figures:

- landing bytes per user-day for each landing compression (bytes of the part files);
- warehouse bytes per user-day for each warehouse compression: the DuckDB file after the load and a
  checkpoint (raw only: the file holds nothing else);
- load seconds of ``load_partition`` for every (landing, warehouse) combination (median);
- with ``--build-days D`` (default 28; 0 skips): a raw history of D days x ``--build-users`` users
  (``bench/_history.py``, cached per warehouse compression), then ``dbt build`` on a copy: the whole
  warehouse's bytes per user-day after the build, and the build seconds, plain vs zstd.

Target (issue 16): >= 4x smaller than plain at the same load speed, for the landing zone and for
the warehouse. User-days are the rows of ``raw.copilot_usage_users`` (one per active user and day).

    .venv/bin/python bench/bytes.py [--users 50000] [--parts 4] [--repeat 3] [--build-days 28]
        [--build-users 2000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import _harness as h

NAME = "bytes per user-day (landing and warehouse)"
SCRIPT = "bytes.py"
DAY = date(2026, 11, 1)
SCOPE = ("organization", "bench-org")
REPORT = "users-1-day"
TARGET_RATIO = 4.0
SAME_SPEED = 1.1  # "the same load speed": compressed load seconds at most 10% above plain


def _compressions() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(landing compressions, warehouse compressions) the code supports, plain first."""
    from copilot_warehouse import config

    landing = tuple(getattr(config, "LANDING_COMPRESSIONS", ("none",)))
    wh = tuple(getattr(config, "WAREHOUSE_COMPRESSIONS", ("none",)))
    return (
        tuple(sorted(landing, key=lambda c: c != "none")),
        tuple(sorted(wh, key=lambda c: c != "none")),
    )


def _file_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(str(db) + ".wal")) if p.exists())


# --- child side: one load into a fresh warehouse ---------------------------------------------
def _child_load(root: Path, db: Path) -> dict:
    loader = h.require("copilot_warehouse.load.loader", "load_partition")
    from copilot_warehouse import config, warehouse

    con = warehouse.connect(db)
    t0 = time.perf_counter()
    result = loader.load_partition(con, config.Scope(*SCOPE), REPORT, DAY, str(root), "bench-bytes")
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    con.execute("checkpoint")
    checkpoint_seconds = time.perf_counter() - t1
    user_days = con.sql("select count(*) from raw.copilot_usage_users").fetchall()[0][0]
    compressions = sorted(
        c
        for (c,) in con.sql(
            "select distinct compression from pragma_storage_info('raw.copilot_usage_users') "
            "where column_name = 'record' and segment_type = 'VARCHAR'"
        ).fetchall()
    )
    con.close()
    return {
        "records": int(result.records),
        "user_days": user_days,
        "seconds": seconds,
        "checkpoint_seconds": checkpoint_seconds,
        "file_bytes": _file_bytes(db),
        "record_compression": compressions,
        "peak_rss_mb": round(h.peak_rss_mb(), 1),
    }


def _child_migrate(root: Path, db: Path) -> dict:
    """Load plain (``none``), then connect with ``zstd``: the one-time migration's seconds and bytes,
    and the bytes of a compacted copy (``copy from database`` into a new file)."""
    import duckdb

    loader = h.require("copilot_warehouse.load.loader", "load_partition")
    from copilot_warehouse import config, warehouse

    os.environ["COPILOT_WAREHOUSE_COMPRESSION"] = "none"
    con = warehouse.connect(db)
    loader.load_partition(con, config.Scope(*SCOPE), REPORT, DAY, str(root), "bench-bytes")
    con.execute("checkpoint")
    con.close()
    plain_bytes = _file_bytes(db)
    os.environ["COPILOT_WAREHOUSE_COMPRESSION"] = "zstd"
    t0 = time.perf_counter()
    con = warehouse.connect(db)
    seconds = time.perf_counter() - t0
    migrated = warehouse.plain_raw_tables(con) == []
    con.close()
    migrated_bytes = _file_bytes(db)
    compact = db.with_name(db.stem + "-compact.duckdb")
    h.copy_db(Path("/nonexistent"), compact)
    con = duckdb.connect()
    con.execute(f"attach '{db}' as old (read_only); attach '{compact}' as new")
    t1 = time.perf_counter()
    con.execute("copy from database old to new")
    compact_seconds = time.perf_counter() - t1
    con.close()
    compact_bytes = _file_bytes(compact)
    h.copy_db(Path("/nonexistent"), compact)
    return {
        "plain_bytes": plain_bytes,
        "seconds": seconds,
        "migrated": migrated,
        "migrated_bytes": migrated_bytes,
        "compact_bytes": compact_bytes,
        "compact_seconds": compact_seconds,
    }


# --- parent side ----------------------------------------------------------------------------
def _dataset(users: int, parts: int) -> tuple[Path, dict]:
    """The plain day of ``users`` records (simulator's writer; bench/_synth.py's templated one
    repeats 512 bodies, which would flatter every compressor)."""
    import _synth

    root = h.DATA_DIR / "bytes" / f"users{users}-parts{parts}"
    info_file = root / "_bench_info.json"
    if info_file.exists():
        return root, json.loads(info_file.read_text())
    h.fresh_dir(root)
    try:
        h.require("copilot_dev.simulator.data", "write_users_day")
        info = _synth.write_simulator_users_day(root, DAY, users, parts=parts, scope_name=SCOPE[1])
        info["generator"] = "simulator"
    except h.Missing:
        info = _synth.write_users_day(root, DAY, users, parts=parts, scope_type=SCOPE[0], scope_name=SCOPE[1])
        info["generator"] = "templated"
    info.pop("files")
    info_file.write_text(json.dumps(info))
    return root, info


def _landed(source: Path, compression: str) -> tuple[Path, dict]:
    """The day under ``source`` landed again through the landing zone's writer with ``compression``."""
    zone = h.require("copilot_warehouse.land.zone", "partition_writer")
    from copilot_warehouse import config

    root = source.with_name(f"{source.name}-landed-{compression}")
    info_file = root / "_bench_info.json"
    if info_file.exists():
        return root, json.loads(info_file.read_text())
    h.fresh_dir(root)
    part_dir = source / SCOPE[0] / SCOPE[1] / REPORT / DAY.isoformat()
    t0 = time.perf_counter()
    with zone.partition_writer(root, config.Scope(*SCOPE), REPORT, DAY, compression) as writer:
        for index, src in enumerate(sorted(part_dir.glob("part-*.ndjson")), start=1):
            shutil.copyfile(src, writer.part_path(index))
        manifest = writer.commit(200)
    info = {
        "bytes": sum(p["bytes"] for p in manifest["parts"]),
        "write_seconds": round(time.perf_counter() - t0, 3),
    }
    info_file.write_text(json.dumps(info))
    return root, info


def _loads(users: int, parts: int, repeat: int) -> dict:
    landing_kinds, wh_kinds = _compressions()
    source, info = _dataset(users, parts)
    landed = {c: _landed(source, c) for c in landing_kinds}
    work = h.DATA_DIR / "bytes" / "db"
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[tuple[str, str], list[dict]] = {(lc, wc): [] for lc in landing_kinds for wc in wh_kinds}
    for _ in range(repeat):
        for (lc, wc), rs in runs.items():  # interleaved: machine noise spreads over every combination
            db = work / f"{lc}-{wc}.duckdb"
            h.copy_db(Path("/nonexistent"), db)
            try:
                rs.append(
                    h.run_child(
                        [__file__, "--child", "--root", str(landed[lc][0]), "--db", str(db)],
                        env={"COPILOT_WAREHOUSE_COMPRESSION": wc},
                    )
                )
            finally:
                h.copy_db(Path("/nonexistent"), db)
    db = work / "migrate.duckdb"
    h.copy_db(Path("/nonexistent"), db)
    try:
        migration = h.run_child([__file__, "--child", "--migrate", "--root", str(source), "--db", str(db)])
    finally:
        h.copy_db(Path("/nonexistent"), db)
    first = next(iter(runs.values()))[0]
    user_days = first["user_days"]
    out: dict = {
        "users": users,
        "parts": parts,
        "user_days": user_days,
        "generator": info.get("generator"),
        "avg_record_bytes": info["avg_record_bytes"],
        "landing": {
            lc: {
                "bytes": li["bytes"],
                "bytes_per_user_day": round(li["bytes"] / user_days, 1),
                "write_seconds": li["write_seconds"],
            }
            for lc, (_, li) in landed.items()
        },
        "warehouse": {},
        "loads": {},
        "migration": migration,
    }
    for (lc, wc), rs in runs.items():
        out["loads"][f"{lc}/{wc}"] = {
            "seconds": round(h.median(r["seconds"] for r in rs), 3),
            "runs_seconds": [round(r["seconds"], 3) for r in rs],
            "checkpoint_seconds": round(h.median(r["checkpoint_seconds"] for r in rs), 3),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "records": rs[0]["records"],
        }
        wh = out["warehouse"].setdefault(
            wc, {"file_bytes": [], "record_compression": rs[0]["record_compression"]}
        )
        wh["file_bytes"] += [r["file_bytes"] for r in rs]
    for wc, wh in out["warehouse"].items():
        wh["bytes"] = int(h.median(wh.pop("file_bytes")))
        wh["bytes_per_user_day"] = round(wh["bytes"] / user_days, 1)
        # A DuckDB file has a fixed floor (header, catalog, a few blocks per table): what the data adds
        # beyond an empty warehouse is what grows with user-days.
        wh["empty_bytes"] = _empty_bytes(work / f"empty-{wc}.duckdb", wc)
        wh["data_bytes_per_user_day"] = round((wh["bytes"] - wh["empty_bytes"]) / user_days, 1)
    return out


def _empty_bytes(db: Path, compression: str) -> int:
    """Bytes of a fresh warehouse (raw schema, no rows) after a checkpoint."""
    from copilot_warehouse import warehouse

    h.copy_db(Path("/nonexistent"), db)
    con = warehouse.connect(db)
    con.execute(warehouse.ddl(compression))
    con.execute("checkpoint")
    con.close()
    size = _file_bytes(db)
    h.copy_db(Path("/nonexistent"), db)
    return size


def _built(build_users: int, build_days: int) -> dict:
    """Raw history per warehouse compression, then ``dbt build`` on a copy: bytes and seconds."""
    import _history as hist

    _, wh_kinds = _compressions()
    out: dict = {"users": build_users, "days": build_days}
    work = h.DATA_DIR / "bytes" / "build"
    work.mkdir(parents=True, exist_ok=True)
    for wc in wh_kinds:
        saved = os.environ.get("COPILOT_WAREHOUSE_COMPRESSION")
        os.environ["COPILOT_WAREHOUSE_COMPRESSION"] = wc  # build_raw runs here; build_in_child inherits it
        try:
            raw, info = hist.build_raw(build_users, build_days)
            db = work / f"{wc}.duckdb"
            h.copy_db(raw, db)
            con = __import__("duckdb").connect(str(raw), read_only=True)
            user_days = con.sql("select count(*) from raw.copilot_usage_users").fetchall()[0][0]
            con.close()
            raw_bytes = _file_bytes(db)
            r = hist.build_in_child(db)
            out[wc] = {
                "user_days": user_days,
                "raw_bytes": raw_bytes,
                "raw_bytes_per_user_day": round(raw_bytes / user_days, 1),
                "built_bytes": _file_bytes(db),
                "built_bytes_per_user_day": round(_file_bytes(db) / user_days, 1),
                "build_seconds": round(r["seconds"], 2),
                "build_success": r["success"],
                "raw_build_seconds": info.get("build_seconds"),
            }
            h.copy_db(Path("/nonexistent"), db)
        finally:
            if saved is None:
                os.environ.pop("COPILOT_WAREHOUSE_COMPRESSION", None)
            else:
                os.environ["COPILOT_WAREHOUSE_COMPRESSION"] = saved
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50_000, help="users (records) in the loaded day")
    ap.add_argument("--parts", type=int, default=4, help="part files of the day")
    ap.add_argument("--repeat", type=int, default=3, help="loads per combination (median reported)")
    ap.add_argument("--build-days", type=int, default=28, help="days of raw history for dbt build (0: skip)")
    ap.add_argument("--build-users", type=int, default=2000, help="users of the raw history for dbt build")
    ap.add_argument("--quick", action="store_true", help="tiny sizes for smoke tests (2,000 users, 1 run)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child = _child_migrate if args.migrate else _child_load
        print(json.dumps(child(Path(args.root), Path(args.db))))
        return 0
    if args.quick:
        args.users, args.parts, args.repeat, args.build_days, args.build_users = 2000, 2, 1, 3, 20
    try:
        h.require("copilot_warehouse.warehouse", "ddl")
        r = _loads(args.users, args.parts, args.repeat)
    except h.Missing as exc:
        return h.skipped(NAME, SCRIPT, argv, str(exc))
    landing_kinds, wh_kinds = _compressions()
    lines = [
        f"data: one day of {r['users']:,} users ({r['user_days']:,} user-days, "
        f"{r['avg_record_bytes']} B/record) "
        f"in {r['parts']} parts, {r['generator']} generator; median of {args.repeat} load(s) per "
        "combination, fresh process each, interleaved",
    ]
    results: dict = {"loads": r, "targets": {"ratio": TARGET_RATIO, "same_speed": SAME_SPEED}}
    plain_landing = r["landing"]["none"]["bytes"] if "none" in r["landing"] else None
    for lc, li in r["landing"].items():
        ratio = plain_landing / li["bytes"] if plain_landing else None
        li["ratio"] = round(ratio, 2) if ratio else None
        verdict = (
            ""
            if lc == "none"
            else f" ({ratio:.1f}x smaller; target >= {TARGET_RATIO:.0f}x): {h.verdict(ratio >= TARGET_RATIO)}"
        )
        lines.append(f"landing {lc:<5} {li['bytes_per_user_day']:>9,.0f} B per user-day{verdict}")
    plain_wh = r["warehouse"].get("none", {}).get("bytes")
    for wc, wi in r["warehouse"].items():
        ratio = plain_wh / wi["bytes"] if plain_wh else None
        wi["ratio"] = round(ratio, 2) if ratio else None
        verdict = (
            ""
            if wc == "none"
            else f" ({ratio:.1f}x smaller; target >= {TARGET_RATIO:.0f}x): {h.verdict(ratio >= TARGET_RATIO)}"
        )
        data_ratio = (
            r["warehouse"]["none"]["data_bytes_per_user_day"] / wi["data_bytes_per_user_day"]
            if plain_wh and wi["data_bytes_per_user_day"] > 0
            else None
        )
        wi["data_ratio"] = round(data_ratio, 2) if data_ratio else None
        lines.append(
            f"warehouse {wc:<5} {wi['bytes_per_user_day']:>7,.0f} B per user-day, raw only "
            f"(record stored {'/'.join(wi['record_compression'])}){verdict}; beyond the empty file's "
            f"{wi['empty_bytes'] / 1e6:.1f} MB: {wi['data_bytes_per_user_day']:,.0f} B"
            + (f" ({data_ratio:.1f}x smaller)" if wc != "none" and data_ratio else "")
        )
    lines.append(
        f"{'landing/warehouse':<18} {'load s':>8} {'x plain/plain':>14} {'checkpoint s':>13} {'peak RSS':>9}"
    )
    base = r["loads"].get("none/none", {}).get("seconds")
    for combo, li in r["loads"].items():
        rel = f"x{li['seconds'] / base:.2f}" if base else "-"
        lines.append(
            f"{combo:<18} {li['seconds']:>8.2f} {rel:>14} {li['checkpoint_seconds']:>13.2f} "
            f"{li['peak_rss_mb']:>6.0f} MB"
        )
    if base and "none/zstd" in r["loads"]:
        plain, packed = r["loads"]["none/none"], r["loads"]["none/zstd"]
        wh_ratio = packed["seconds"] / base
        # The rows are compressed when DuckDB writes them to the file, partly at the checkpoint that
        # follows a load (every connection's close, or the WAL passing its threshold): that counts too.
        durable = (packed["seconds"] + packed["checkpoint_seconds"]) / (
            plain["seconds"] + plain["checkpoint_seconds"]
        )
        results["warehouse_load_ratio"] = round(wh_ratio, 3)
        results["warehouse_load_checkpoint_ratio"] = round(durable, 3)
        lines.append(
            f"zstd vs plain warehouse (plain landing), target <= x{SAME_SPEED}: load_partition seconds "
            f"x{wh_ratio:.2f} ({h.verdict(wh_ratio <= SAME_SPEED)}); load + checkpoint seconds "
            f"x{durable:.2f} ({h.verdict(durable <= SAME_SPEED)})"
        )
    m = r["migration"]
    m["seconds_per_gb"] = round(m["seconds"] / (m["plain_bytes"] / 1e9), 1)
    lines.append(
        f"one-time migration of the plain warehouse ({m['plain_bytes'] / 1e6:.0f} MB): {m['seconds']:.2f} s "
        f"(~{m['seconds_per_gb']:.0f} s per GB of plain warehouse); file afterwards "
        f"{m['migrated_bytes'] / 1e6:.0f} MB (DuckDB does not shrink files; freed blocks are reused), "
        f"{m['compact_bytes'] / 1e6:.0f} MB after `copy from database` into a new file "
        f"({m['compact_seconds']:.2f} s)"
    )
    if args.build_days > 0:
        try:
            b = _built(args.build_users, args.build_days)
        except (h.Missing, RuntimeError) as exc:
            b = {"error": str(exc)[-1500:]}
            lines.append(f"ERROR in the dbt build step: {str(exc).strip().splitlines()[-1][:200]}")
        results["build"] = b
        for wc in wh_kinds:
            if wc in b:
                x = b[wc]
                lines.append(
                    f"after dbt build ({b['days']} days x {b['users']:,} users, "
                    f"{x['user_days']:,} user-days), warehouse {wc:<5}: raw "
                    f"{x['raw_bytes_per_user_day']:,.0f} B, whole {x['built_bytes_per_user_day']:,.0f} B "
                    f"per user-day; dbt build {x['build_seconds']:.1f} s"
                )
        if "none" in b and "zstd" in b:
            lines.append(
                "whole warehouse zstd vs plain: "
                f"{b['none']['built_bytes'] / b['zstd']['built_bytes']:.2f}x smaller; "
                f"dbt build x{b['zstd']['build_seconds'] / b['none']['build_seconds']:.2f}"
            )
    h.report(NAME, SCRIPT, argv, results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
