"""Exports every mart as Parquet and CSV: ``python -m copilot_warehouse export`` / ``make export``.

One file per mart and format (``exports/<mart>.parquet``, ``exports/<mart>.csv``), written by
DuckDB's ``COPY`` from a read-only connection, so an export can run while other readers query
the warehouse. Each file is written under a temporary name and renamed into place: a reader sees
the previous export or the new one, never half a file.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from copilot_warehouse import config, warehouse

log = logging.getLogger(__name__)

DEFAULT_OUT_DIR = "exports"
SCHEMA = "marts"
# Format -> COPY options. CSV keeps a header row; Parquet is compressed with zstd.
FORMATS: dict[str, str] = {
    "parquet": "format parquet, compression zstd",
    "csv": "format csv, header true",
}


class ExportError(RuntimeError):
    """The export cannot run (missing warehouse, no marts)."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def export_marts(
    warehouse_path: str | Path | None = None,
    out_dir: str | Path = DEFAULT_OUT_DIR,
    formats: tuple[str, ...] = ("parquet", "csv"),
) -> list[Path]:
    """Write every table of schema ``marts`` as one file per format.

    Args:
        warehouse_path: DuckDB file; default ``config.warehouse_path()`` (``COPILOT_WAREHOUSE_PATH``).
        out_dir: folder for the files; created when missing.
        formats: any of ``"parquet"`` and ``"csv"``.

    Returns:
        The written files, sorted by mart then format.

    Raises:
        ExportError: the warehouse file does not exist, or it holds no marts.
        ValueError: an unknown format was asked for.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format(s) {unknown}: choose from {sorted(FORMATS)}")
    path = Path(warehouse_path or config.warehouse_path())
    if not path.is_file():
        raise ExportError(
            f"the warehouse {path} does not exist: run `make run` (or the pipeline) first, "
            f"or point {config.ENV_WAREHOUSE} at your DuckDB file"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    con = warehouse.connect(path, read_only=True)
    try:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1",
                [SCHEMA],
            ).fetchall()
        ]
        if not marts:
            raise ExportError(
                f"the warehouse {path} has no tables in schema {SCHEMA!r}: run `make run` first"
            )
        for mart in marts:
            (rows,) = con.execute(f"select count(*) from {SCHEMA}.{_quote(mart)}").fetchall()[0]
            for fmt in formats:
                target = out / f"{mart}.{fmt}"
                tmp = out / f".{mart}.{fmt}.tmp"
                query = f"select * from {SCHEMA}.{_quote(mart)}"
                con.execute(f"copy ({query}) to {_sql_string(str(tmp))} ({FORMATS[fmt]})")
                os.replace(tmp, target)
                written.append(target)
            log.info("exported %s.%s: %d rows as %s", SCHEMA, mart, rows, ", ".join(formats))
    finally:
        con.close()
    log.info("exported %d marts to %s", len(written) // max(len(formats), 1), out)
    return written


def cli(command: str, argv: list[str]) -> int:
    """``python -m copilot_warehouse export [--warehouse PATH] [--out-dir DIR] [--format F]``.

    Args:
        command: the command name (``export``).
        argv: the remaining arguments.

    Returns:
        0 on success, 1 when nothing could be exported.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m copilot_warehouse {command}", description="Write every mart as Parquet and CSV."
    )
    parser.add_argument(
        "--warehouse", help=f"DuckDB file (default ${config.ENV_WAREHOUSE} or {config.DEFAULT_WAREHOUSE})"
    )
    parser.add_argument(
        "--out-dir", default=DEFAULT_OUT_DIR, help=f"output folder (default {DEFAULT_OUT_DIR})"
    )
    parser.add_argument(
        "--format",
        action="append",
        choices=sorted(FORMATS),
        help="export only this format (repeatable; default: parquet and csv)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        paths = export_marts(args.warehouse, args.out_dir, tuple(args.format or ("parquet", "csv")))
    except (ExportError, warehouse.WarehouseLockedError) as exc:
        log.error("%s", exc)
        return 1
    for p in paths:
        print(p)
    return 0
