"""Benchmark 1 — parse and land: one ``users-1-day`` day from landing files into raw.

Writes a synthetic day of N users (realistic ~3.4 KB records, several part files, landing layout
and manifest) and the same for 2N users, then loads each in fresh child processes with:

- ``loader``  — the project's ``copilot_warehouse.load.loader.load_partition`` into
  ``raw.copilot_usage_users``;
- ``ceiling`` — DuckDB's native ``read_json(files, format='newline_delimited')`` into a table
  (``create table ... as select *``): the physical ceiling for parsing these files;
- ``raw_shape`` — a reference in between: ``read_json_objects`` into a table shaped like raw
  (user id, untouched JSON record, file name), i.e. the cheapest way to produce what raw keeps;
- ``loader_zstd`` / ``loader_gzip`` — ``load_partition`` again, from the same parts landed
  compressed by the landing zone's writer (``COPILOT_LANDING_COMPRESSION=zstd``, the default, or
  ``gzip``): with ``loader`` they give the landing bytes per user-day plain vs compressed (target
  >= 4x smaller) and the load seconds of each (target: the same).

Figures: records/s (median of ``--repeat`` runs), loader/ceiling ratio (target >= 0.7), and the
peak RSS of each child process (``VmHWM``) for N and 2N (target < 1.5 GB and flat when doubling).

    .venv/bin/python bench/parse_and_land.py [--users 100000] [--parts 4] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import _harness as h

NAME = "parse and land (users-1-day)"
SCRIPT = "parse_and_land.py"
DAY = date(2026, 11, 1)
SCOPE = ("organization", "bench-org")
REPORT = "users-1-day"
METHODS = ("ceiling", "loader", "raw_shape", "loader_gzip", "loader_zstd")
COMPRESSED = {"loader_gzip": "gzip", "loader_zstd": "zstd"}  # method -> landing compression
TARGET_BYTES_RATIO = 4.0
TARGET_RATIO = 0.7
TARGET_PEAK_MB = 1536
FLAT_GROWTH = 1.2  # "flat": peak RSS at 2N at most 20% above the peak at N


# --- child side: one load, in a fresh process ------------------------------------------------
def _apply(con, settings: list[str]) -> None:
    for setting in settings:
        name, _, value = setting.partition("=")
        con.execute(f"set {name} = '{value}'")


def _child(method: str, root: Path, db: Path, settings: list[str]) -> dict:
    import duckdb

    part_dir = root / SCOPE[0] / SCOPE[1] / REPORT / DAY.isoformat()
    files = sorted(str(p) for p in part_dir.glob("part-*.ndjson*"))
    if method == "loader" or method in COMPRESSED:
        loader = h.require("copilot_warehouse.load.loader", "load_partition")
        from copilot_warehouse import config, warehouse

        con = warehouse.connect(db)
        _apply(con, settings)
        rss_before = h.current_rss_mb()
        t0 = time.perf_counter()
        result = loader.load_partition(
            con, config.Scope(*SCOPE), REPORT, DAY, str(root), f"bench-{int(time.time())}"
        )
        seconds = time.perf_counter() - t0
        records = int(getattr(result, "records", 0))
        stored = con.sql("select count(*) from raw.copilot_usage_users").fetchall()[0][0]
        extra = {"quarantined": getattr(result, "quarantined", None), "stored": stored}
    elif method == "ceiling":
        con = duckdb.connect(str(db))
        _apply(con, settings)
        rss_before = h.current_rss_mb()
        t0 = time.perf_counter()
        con.execute("create table ceiling as select * from read_json(?, format='newline_delimited')", [files])
        seconds = time.perf_counter() - t0
        records = con.sql("select count(*) from ceiling").fetchall()[0][0]
        extra = {}
    elif method == "raw_shape":
        con = duckdb.connect(str(db))
        _apply(con, settings)
        rss_before = h.current_rss_mb()
        t0 = time.perf_counter()
        con.execute(
            """
            create table raw_shape as
            select cast(json ->> '$.user_id' as bigint) as user_id, json as record, filename as _part
            from read_json_objects(?, format='newline_delimited', filename=true)
            """,
            [files],
        )
        seconds = time.perf_counter() - t0
        records = con.sql("select count(*) from raw_shape").fetchall()[0][0]
        extra = {}
    else:
        raise SystemExit(f"unknown method {method}")
    con.close()
    return {
        "method": method,
        "records": records,
        "seconds": seconds,
        "records_per_s": records / seconds if seconds else None,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(h.peak_rss_mb(), 1),
        **extra,
    }


# --- parent side ----------------------------------------------------------------------------
def _dataset(users: int, parts: int, generator: str) -> tuple[Path, dict]:
    import _synth

    root = h.DATA_DIR / "parse_and_land" / f"{generator}-users{users}-parts{parts}"
    info_file = root / "_bench_info.json"
    if info_file.exists():
        return root, json.loads(info_file.read_text())
    h.fresh_dir(root)
    if generator == "simulator":
        info = _synth.write_simulator_users_day(root, DAY, users, parts=parts, scope_name=SCOPE[1])
    else:
        info = _synth.write_users_day(root, DAY, users, parts=parts, scope_type=SCOPE[0], scope_name=SCOPE[1])
    info.pop("files")
    info_file.write_text(json.dumps(info))
    return root, info


def _compressed_copy(root: Path, compression: str) -> tuple[Path, dict]:
    """The partition under ``root`` landed again through the landing zone's writer, compressed."""
    zone = h.require("copilot_warehouse.land.zone", "partition_writer")
    from copilot_warehouse import config

    groot = root.with_name(f"{root.name}-{compression}")
    info_file = groot / "_bench_info.json"
    if info_file.exists():
        return groot, json.loads(info_file.read_text())
    h.fresh_dir(groot)
    part_dir = root / SCOPE[0] / SCOPE[1] / REPORT / DAY.isoformat()
    t0 = time.perf_counter()
    with zone.partition_writer(groot, config.Scope(*SCOPE), REPORT, DAY, compression) as writer:
        for index, src in enumerate(sorted(part_dir.glob("part-*.ndjson")), start=1):
            shutil.copyfile(src, writer.part_path(index))
        manifest = writer.commit(200)
    info = {
        "bytes": sum(p["bytes"] for p in manifest["parts"]),
        "uncompressed_bytes": sum(p["uncompressed_bytes"] for p in manifest["parts"]),
        "compress_seconds": round(time.perf_counter() - t0, 3),
    }
    info_file.write_text(json.dumps(info))
    return groot, info


def _measure(
    users: int, parts: int, repeat: int, methods: tuple[str, ...], generator: str, settings: list[str]
) -> dict:
    root, info = _dataset(users, parts, generator)
    roots = {m: root for m in methods}
    packed: dict[str, dict] = {}  # compression -> bytes, uncompressed_bytes, compress_seconds
    for method in methods:
        if method in COMPRESSED:
            roots[method], packed[COMPRESSED[method]] = _compressed_copy(root, COMPRESSED[method])
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    errors: dict[str, str] = {}
    work = h.DATA_DIR / "parse_and_land" / "db"
    work.mkdir(parents=True, exist_ok=True)
    for _ in range(repeat):
        for method in methods:  # interleaved, so machine noise spreads over every method
            if method in errors:
                continue
            db = work / f"{method}.duckdb"
            h.copy_db(Path("/nonexistent"), db)  # removes a stale file
            try:
                runs[method].append(
                    h.run_child(
                        [__file__, "--child", method, "--root", str(roots[method]), "--db", str(db)]
                        + [a for s in settings for a in ("--set", s)]
                    )
                )
            except RuntimeError as exc:
                msg = str(exc)
                errors[method] = (
                    "missing: " + msg.split("Missing: ")[-1].splitlines()[0] if "Missing" in msg else msg
                )
            finally:
                h.copy_db(Path("/nonexistent"), db)
    out: dict = {
        "generator": generator,
        "users": users,
        "parts": parts,
        "bytes": info["bytes"],
        "avg_record_bytes": info["avg_record_bytes"],
    }
    if packed:
        out["landing"] = {"plain_bytes_per_user_day": round(info["bytes"] / users, 1)}
        for compression, cinfo in packed.items():
            out["landing"].update(
                {
                    f"{compression}_bytes_per_user_day": round(cinfo["bytes"] / users, 1),
                    f"{compression}_ratio": round(info["bytes"] / cinfo["bytes"], 2),
                    f"{compression}_compress_seconds": cinfo["compress_seconds"],
                }
            )
    for method in methods:
        rs = runs[method]
        if not rs:
            out[method] = {"error": errors.get(method, "no runs")}
            continue
        out[method] = {
            "records": rs[0]["records"],
            "records_per_s": round(h.median(r["records_per_s"] for r in rs)),
            "seconds": round(h.median(r["seconds"] for r in rs), 3),
            "peak_rss_mb": round(h.median(r["peak_rss_mb"] for r in rs), 1),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in rs),
            "rss_before_mb": round(h.median(r["rss_before_mb"] for r in rs), 1),
            "runs_records_per_s": [round(r["records_per_s"]) for r in rs],
            "runs_peak_rss_mb": [r["peak_rss_mb"] for r in rs],
        }
        if "stored" in rs[0]:
            out[method]["stored"] = rs[0]["stored"]
            out[method]["quarantined"] = rs[0].get("quarantined")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=100_000, help="users (records) in the day; 2N is also run")
    ap.add_argument("--parts", type=int, default=4, help="part files per day")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method and size (median reported)")
    ap.add_argument(
        "--generator",
        choices=("simulator", "templated"),
        default="simulator",
        help="simulator: copilot_dev.simulator's write_users_day (server records); "
        "templated: bench/_synth.py (faster to write, same shape)",
    )
    ap.add_argument("--quick", action="store_true", help="tiny size for smoke tests (2,000 users, 1 run)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="DuckDB setting applied to every method's connection before loading "
        "(e.g. memory_limit=1GB), to try a fix",
    )
    ap.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS)
    )
    ap.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        try:
            print(json.dumps(_child(args.child, Path(args.root), Path(args.db), args.set)))
        except h.Missing as exc:
            print(f"Missing: {exc}", file=sys.stderr)
            return 3
        return 0
    if args.quick:
        args.users, args.parts, args.repeat = 2000, 2, 1

    if args.generator == "simulator":
        try:
            h.require("copilot_dev.simulator.data", "write_users_day")
        except h.Missing:
            args.generator = "templated"
    methods = tuple(m for m in METHODS if m in args.methods.split(","))
    sizes = {"N": _measure(args.users, args.parts, args.repeat, methods, args.generator, args.set)}
    sizes["2N"] = _measure(2 * args.users, 2 * args.parts, args.repeat, methods, args.generator, args.set)
    n, n2 = sizes["N"], sizes["2N"]
    lines = [
        f"data: {n['users']:,} users/day in {n['parts']} parts ({n['bytes'] / 1e6:.0f} MB, "
        f"{n['avg_record_bytes']} B/record) and {n2['users']:,} users in {n2['parts']} parts "
        f"({n2['bytes'] / 1e6:.0f} MB), written by the {args.generator} generator; "
        f"median of {args.repeat} run(s), fresh process per run",
        f"{'method':<11} {'size':>4} {'records':>9} {'records/s':>11} {'seconds':>8} {'peak RSS':>10}",
    ]
    for label, s in sizes.items():
        for method in methods:
            r = s[method]
            if "error" in r:
                lines.append(f"{method:<11} {label:>4}  {r['error'][:90]}")
            else:
                lines.append(
                    f"{method:<11} {label:>4} {r['records']:>9,} {r['records_per_s']:>11,} "
                    f"{r['seconds']:>8.2f} {r['peak_rss_mb']:>7.0f} MB"
                )
    results: dict = {"sizes": sizes, "targets": {"ratio": TARGET_RATIO, "peak_rss_mb": TARGET_PEAK_MB}}
    if settings_note := ", ".join(args.set):
        lines.insert(1, f"DuckDB settings applied to every method: {settings_note}")
    results["settings"] = args.set
    if "error" not in n.get("loader", {"error": 1}) and "error" not in n.get("ceiling", {"error": 1}):
        ratio = n["loader"]["records_per_s"] / n["ceiling"]["records_per_s"]
        ratio2 = n2["loader"]["records_per_s"] / n2["ceiling"]["records_per_s"]
        peak = max(n["loader"]["peak_rss_mb"], n2["loader"]["peak_rss_mb"])
        growth = n2["loader"]["peak_rss_mb"] / n["loader"]["peak_rss_mb"]
        results.update(
            ratio_n=round(ratio, 3),
            ratio_2n=round(ratio2, 3),
            loader_peak_mb=peak,
            loader_peak_growth=round(growth, 2),
        )
        lines += [
            f"loader / ceiling records/s: {ratio:.2f}x at N, {ratio2:.2f}x at 2N "
            f"(target >= {TARGET_RATIO}x): {h.verdict(ratio >= TARGET_RATIO)}",
            f"loader peak RSS: {n['loader']['peak_rss_mb']:.0f} MB at N, "
            f"{n2['loader']['peak_rss_mb']:.0f} MB at 2N "
            f"(x{growth:.2f}; target < {TARGET_PEAK_MB} MB and flat <= x{FLAT_GROWTH}): "
            f"{h.verdict(peak < TARGET_PEAK_MB and growth <= FLAT_GROWTH)}",
        ]
    else:
        lines.append("loader figures unavailable: " + str(n.get("loader", {}).get("error", "not run"))[:200])
    for label, s in sizes.items():
        if "landing" not in s:
            continue
        b = s["landing"]
        for method, compression in COMPRESSED.items():
            if f"{compression}_ratio" not in b:
                continue
            ratio = b[f"{compression}_ratio"]
            lines.append(
                f"landing bytes per user-day at {label}: plain {b['plain_bytes_per_user_day']:,.0f} B, "
                f"{compression} {b[f'{compression}_bytes_per_user_day']:,.0f} B ({ratio:.1f}x smaller; "
                f"target >= {TARGET_BYTES_RATIO:.0f}x): {h.verdict(ratio >= TARGET_BYTES_RATIO)}; "
                f"compressing took {b[f'{compression}_compress_seconds']:.2f} s"
            )
            if "error" not in s.get("loader", {"error": 1}) and "error" not in s.get(method, {"error": 1}):
                plain, seconds = s["loader"]["seconds"], s[method]["seconds"]
                b["load_seconds_plain"], b[f"load_seconds_{compression}"] = plain, seconds
                lines.append(
                    f"load seconds at {label}: plain {plain:.2f} s, {compression} {seconds:.2f} s "
                    f"(x{seconds / plain:.2f})"
                )
    h.report(NAME, SCRIPT, argv, results, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
