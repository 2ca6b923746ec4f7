"""Archived history from the retired legacy ``/copilot/metrics`` API into ``raw.copilot_legacy_metrics``.

GitHub closed ``GET /orgs/{org}/copilot/metrics`` on 2026-04-02 (it now answers 404). JSON saved
from it before then is the only usage history older than the new reports API, so this module:

- imports archived files: a JSON array of day objects (reference §2.6), one day object, or
  NDJSON of day objects; a file or a folder of ``*.json``/``*.ndjson`` files. One transaction per
  file replaces the days that file holds for that scope; objects without a valid ``date`` (or
  that are not objects, or carry negative totals) go to ``raw.quarantine`` with the reason;
- ``python -m copilot_warehouse import-legacy --file PATH --org SLUG [--warehouse PATH]``;
- :func:`fetch_legacy` asks a live server (a GitHub that still serves it, or the simulator) and
  lands the answer as JSON for import; a 404 is reported as "retired by GitHub on 2026-04-02",
  not retried.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from copilot_warehouse import config, redact, warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader

log = redact.get_logger(__name__)

REPORT = "legacy-metrics"  # name in raw.ingest_log / raw.quarantine and in the landing zone
LEGACY_FILE = "part-0001.json"
RETIRED_MESSAGE = (
    "the legacy Copilot Metrics API (/copilot/metrics) was retired by GitHub on 2026-04-02 and now "
    "answers 404; import JSON archived before then with `python -m copilot_warehouse import-legacy`, "
    "and use the usage metrics reports for later days"
)
_TOTALS = ("total_active_users", "total_engaged_users")


class LegacyImportError(ValueError):
    """An archive cannot be imported at all (unreadable, not JSON, no day objects)."""


def _parse_objects(text: str, label: str) -> list[Any]:
    """Day objects from a JSON array, a single JSON object, or NDJSON."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) > 1 and not stripped.startswith("["):  # NDJSON: bad lines go to quarantine
            out: list[Any] = []
            for line in lines:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    out.append(_Unparsed(line))
            return out
        raise LegacyImportError(f"{label}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("days"), list):  # tolerate {"days": [...]} wrappers
            return value["days"]
        return [value]
    raise LegacyImportError(
        f"{label}: expected a JSON array of day objects, got a JSON {type(value).__name__}"
    )


class _Unparsed(str):
    """An NDJSON line that is not JSON."""


def _problem(obj: Any) -> str | None:
    if isinstance(obj, _Unparsed):
        return "malformed JSON line"
    if not isinstance(obj, dict):
        return f"not a JSON object: a JSON {type(obj).__name__}"
    day = obj.get("date")
    if not isinstance(day, str):
        return "missing date" if day is None else f"date is not a string: {day!r}"
    try:
        date.fromisoformat(day[:10])
    except ValueError:
        return f"date is not YYYY-MM-DD: {day!r}"
    for name in _TOTALS:
        value = obj.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            return f"{name} is not a non-negative number: {value!r}"
    return None


def import_file(
    con: Any,
    path: str | os.PathLike[str],
    scope: Scope,
    load_id: str,
    *,
    part: str | None = None,
) -> dict[str, Any]:
    """Import one archived legacy file in one transaction, replacing the days it holds.

    Args:
        con: a writable DuckDB connection (``warehouse.connect``).
        path: the JSON file.
        scope: the organization (or enterprise) the archive belongs to.
        load_id: stamped on every row.
        part: value for ``_part`` (default: the file name).

    Returns:
        ``{"file", "days", "first_day", "last_day", "quarantined", "duplicates"}``.

    Raises:
        LegacyImportError: the file is unreadable or not JSON; nothing was written.
    """
    path = Path(path)
    part = part or path.name
    label = f"{scope.label} {REPORT} {path}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LegacyImportError(f"{label}: cannot read the file: {exc}") from None
    objects = _parse_objects(text, label)
    good: dict[date, tuple[int, str]] = {}
    bad: list[tuple[int, str, str]] = []
    duplicates = 0
    for index, obj in enumerate(objects, start=1):
        reason = _problem(obj)
        if reason:
            raw = str(obj) if isinstance(obj, _Unparsed) else json.dumps(obj, separators=(",", ":"))
            bad.append((index, reason, raw))
            continue
        day = date.fromisoformat(obj["date"][:10])
        if day in good:
            duplicates += 1  # keep the first object of a day
            continue
        good[day] = (index, json.dumps(obj, separators=(",", ":")))
    # A bad object has no trustworthy day: quarantine rows carry the file's last good day, or
    # the import day when there is none.
    quarantine_day = max(good) if good else datetime.now(UTC).date()
    days = sorted(good)
    con.begin()
    try:
        if days:
            con.execute(
                "delete from raw.copilot_legacy_metrics where scope_type = ? and scope_name = ? "
                "and day in (select unnest(?::date[]))",
                (scope.type, scope.name, days),
            )
            con.execute(
                """
                insert into raw.copilot_legacy_metrics
                select ?, ?, d, r::json, ?, ?, now(), ?
                from (select unnest(?::date[]) as d, unnest(?::varchar[]) as r)
                """,
                (
                    scope.type,
                    scope.name,
                    part,
                    load_id,
                    loader.SOURCE_LEGACY,
                    days,
                    [good[d][1] for d in days],
                ),
            )
        con.execute(
            "delete from raw.quarantine where scope_type = ? and scope_name = ? and report = ? and _part = ?",
            (scope.type, scope.name, REPORT, part),
        )
        if bad:
            con.executemany(
                """
                insert into raw.quarantine
                    (load_id, scope_type, scope_name, report, day, _part, _line, reason, raw_line,
                     quarantined_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())
                """,
                [
                    (load_id, scope.type, scope.name, REPORT, quarantine_day, part, i, r, raw)
                    for i, r, raw in bad
                ],
            )
        con.execute(
            """
            insert into raw.ingest_log
                (load_id, scope_type, scope_name, report, day, http_status, status, records,
                 quarantined, duplicates, parts, message, finished_at)
            values (?, ?, ?, ?, ?, null, ?, ?, ?, ?, 1, ?, now())
            """,
            (
                load_id,
                scope.type,
                scope.name,
                REPORT,
                quarantine_day,
                "loaded" if days else "skipped",
                len(days),
                len(bad),
                duplicates,
                f"legacy archive {part}: {len(days)} days"
                + (f" {days[0]}..{days[-1]}" if days else " (none valid)"),
            ),
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    result = {
        "file": part,
        "days": len(days),
        "first_day": days[0].isoformat() if days else None,
        "last_day": days[-1].isoformat() if days else None,
        "quarantined": len(bad),
        "duplicates": duplicates,
    }
    log.info("%s: %s", label, result)
    return result


def archive_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files to import: ``path`` itself, or the ``*.json``/``*.ndjson`` files under a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson"))
        return [p for p in files if p.name != zone.MANIFEST]
    if path.is_file():
        return [path]
    raise LegacyImportError(f"{path}: no such file or folder")


def import_legacy(
    con: Any, path: str | os.PathLike[str], scope: Scope, load_id: str | None = None
) -> dict[str, Any]:
    """Import an archived file or a folder of files (one transaction per file).

    A file that cannot be read at all is reported in ``errors`` and the others still import.

    Returns:
        ``{"load_id", "files": [per-file results], "days", "first_day", "last_day", "quarantined",
        "errors"}``.
    """
    load_id = load_id or loader.new_load_id("legacy")
    root = Path(path)
    results, errors = [], []
    for file in archive_files(root):
        part = file.relative_to(root).as_posix() if root.is_dir() else file.name
        try:
            results.append(import_file(con, file, scope, load_id, part=part))
        except LegacyImportError as exc:
            errors.append(str(exc))
            log.error("%s", exc)
    days = con.execute(
        "select count(*), min(day), max(day) from raw.copilot_legacy_metrics where scope_type = ? and "
        "scope_name = ? and _load_id = ?",
        (scope.type, scope.name, load_id),
    ).fetchall()[0]
    return {
        "load_id": load_id,
        "files": results,
        "days": int(days[0]),
        "first_day": days[1].isoformat() if days[1] else None,
        "last_day": days[2].isoformat() if days[2] else None,
        "quarantined": sum(r["quarantined"] for r in results),
        "errors": errors,
    }


def fetch_legacy(
    client: Any,
    scope: Scope,
    since: date | str,
    until: date | str,
    landing_root: str | os.PathLike[str],
) -> dict[str, Any]:
    """Ask a live server for legacy day objects and land them for :func:`import_landed`.

    Landed as ``<root>/<type>/<name>/legacy-metrics/<until>/part-0001.json`` (a JSON array).

    Returns:
        A receipt (``report`` = ``legacy-metrics``): ``landed`` with ``records`` days, ``retired``
        when the API answered 404 (GitHub closed it on 2026-04-02; not retried), or ``failed``.
    """
    from copilot_warehouse.extract.client import CopilotApiError, LegacyApiRetiredError

    since_day, until_day = config.parse_day(since, "since"), config.parse_day(until, "until")
    if until_day < since_day:
        raise config.ConfigError(f"until {until_day} is before since {since_day}")
    receipt: dict[str, Any] = {
        "scope_type": scope.type,
        "scope_name": scope.name,
        "report": REPORT,
        "day": until_day.isoformat(),
        "since": since_day.isoformat(),
        "parts": 0,
        "bytes": 0,
        "message": None,
        "retries": 0,
        "records": 0,
    }
    try:
        days = client.legacy_metrics(scope, since_day, until_day)
    except LegacyApiRetiredError:
        log.warning("%s: %s", scope.label, RETIRED_MESSAGE)
        return {**receipt, "status": "retired", "http_status": 404, "message": RETIRED_MESSAGE}
    except CopilotApiError as exc:
        return {**receipt, "status": "failed", "http_status": exc.status, "message": redact.redact(str(exc))}
    data = json.dumps(days).encode()
    zone.write_partition(
        landing_root, scope, REPORT, until_day, 200, {LEGACY_FILE: data}, since=since_day.isoformat()
    )
    return {
        **receipt,
        "status": "landed",
        "http_status": 200,
        "parts": 1,
        "bytes": len(data),
        "records": len(days),
    }


def import_landed(
    con: Any, scope: Scope, day: date | str, landing_root: str | os.PathLike[str], load_id: str
) -> dict[str, Any]:
    """Import a legacy answer landed by :func:`fetch_legacy` (``_part`` relative to the root)."""
    with zone.open_partition(landing_root, scope, REPORT, day) as opened:
        results = [import_file(con, local, scope, load_id, part=rel) for rel, local in opened.files]
    return {
        "days": sum(r["days"] for r in results),
        "quarantined": sum(r["quarantined"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
    }


# --- command line --------------------------------------------------------------------------------
def cli(command: str, argv: list[str]) -> int:
    """``import-legacy --file PATH --org SLUG [--warehouse PATH]``: import an archive, print days."""
    parser = argparse.ArgumentParser(
        prog=f"python -m copilot_warehouse {command}",
        description="Load archived JSON from the retired legacy /orgs/{org}/copilot/metrics API "
        "(a JSON array of day objects, or a folder of such files) into raw.copilot_legacy_metrics.",
    )
    parser.add_argument("--file", required=True, help="archived JSON file, or a folder of *.json files")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--org", help="organization the archive belongs to")
    target.add_argument("--enterprise", help="enterprise the archive belongs to")
    parser.add_argument(
        "--warehouse",
        default=None,
        help=f"DuckDB file (default ${config.ENV_WAREHOUSE} or {config.DEFAULT_WAREHOUSE})",
    )
    parser.add_argument("--lock-timeout", type=float, default=60.0, help="seconds to wait for another writer")
    args = parser.parse_args(argv)
    try:
        scope = (
            Scope(config.ORGANIZATION, args.org)
            if args.org is not None
            else Scope(config.ENTERPRISE, args.enterprise)
        )
        files = archive_files(args.file)
        if not files:
            raise LegacyImportError(f"{args.file}: no *.json or *.ndjson files in this folder")
        con = warehouse.connect(args.warehouse, lock_timeout=args.lock_timeout)
    except (config.ConfigError, LegacyImportError, warehouse.WarehouseLockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = import_legacy(con, args.file, scope)
    finally:
        con.close()
    for f in result["files"]:
        span = f" ({f['first_day']}..{f['last_day']})" if f["days"] else ""
        extra = f", {f['quarantined']} quarantined" if f["quarantined"] else ""
        extra += f", {f['duplicates']} duplicate days" if f["duplicates"] else ""
        print(f"{f['file']}: {f['days']} days imported{span}{extra}")
    span = f" ({result['first_day']}..{result['last_day']})" if result["days"] else ""
    print(f"{scope.label}: {result['days']} days imported{span}, {result['quarantined']} quarantined")
    for error in result["errors"]:
        print(f"error: {error}", file=sys.stderr)
    return 1 if result["errors"] else 0
