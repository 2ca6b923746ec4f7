"""Fill the raw tables straight from the simulator's Dataset, for the dbt tests.

The records go into ``raw.*`` exactly as GitHub sends them (JSON text in ``record``), one
partition at a time with the loader's replace semantics (delete the (scope, report, day), insert
it again), so the dbt project can be built and checked without the fetch and load steps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from copilot_dev.simulator import Dataset
from copilot_warehouse.config import ENTERPRISE, ORGANIZATION, Scope

AGGREGATE_REPORT = {ORGANIZATION: "organization-1-day", ENTERPRISE: "enterprise-1-day"}
AGGREGATE_28_DAY_REPORT = {ORGANIZATION: "organization-28-day", ENTERPRISE: "enterprise-28-day"}

RecordFilter = Callable[[Scope, str, date, dict[str, Any]], bool]


def scopes_of(dataset: Dataset) -> list[Scope]:
    """Every organization and enterprise the dataset serves."""
    cfg = dataset.config
    return [Scope(ORGANIZATION, o) for o in cfg.orgs] + [Scope(ENTERPRISE, e) for e in cfg.enterprises]


def _insert(con, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    arrow = pa.Table.from_pylist(rows)  # noqa: F841 - read by DuckDB's replacement scan below
    cols = ", ".join(rows[0])
    select = ", ".join(f"cast({c} as json)" if c == "record" else c for c in rows[0])
    con.execute(f"insert into {table} ({cols}) select {select} from arrow")


def _report_rows(
    scope: Scope,
    report: str,
    day: date,
    records: list[dict[str, Any]],
    keys: Callable[[dict[str, Any]], dict[str, Any]],
    load_id: str,
    loaded_at: datetime,
) -> list[dict[str, Any]]:
    return [
        {
            "scope_type": scope.type,
            "scope_name": scope.name,
            "report": report,
            "day": day,
            **keys(rec),
            "record": json.dumps(rec, separators=(",", ":")),
            "_part": f"{scope.type}/{scope.name}/{report}/{day}/part-0001.ndjson",
            "_line": n,
            "_load_id": load_id,
            "_loaded_at": loaded_at,
            "_source": "usage_metrics",
        }
        for n, rec in enumerate(records, start=1)
    ]


def load_days(
    con,
    dataset: Dataset,
    days: Iterable[date],
    *,
    load_id: str,
    loaded_at: datetime | None = None,
    scopes: Iterable[Scope] | None = None,
    keep: RecordFilter | None = None,
) -> None:
    """Load the daily reports of ``days`` for every scope, replacing those partitions.

    Args:
        con: open DuckDB connection with the raw schema.
        dataset: the simulator's data.
        days: report days to load.
        load_id: stamped on every row.
        loaded_at: stamped on every row (default now).
        scopes: scopes to load (default every scope of the dataset).
        keep: optional filter ``(scope, report, day, record) -> bool`` to drop records (simulates
            a re-pull where GitHub changed a day).
    """
    loaded_at = loaded_at or datetime.now(UTC)
    keep = keep or (lambda *_: True)
    rows: dict[str, list[dict[str, Any]]] = {}
    partitions: dict[str, list[dict[str, Any]]] = {}
    log: list[dict[str, Any]] = []
    seen_keys: dict[tuple[str, str], list[date]] = {}
    for scope in scopes or scopes_of(dataset):
        for day in days:
            reports = {
                AGGREGATE_REPORT[scope.type]: (
                    "raw.copilot_usage_aggregate",
                    [a] if (a := dataset.aggregate(scope, day)) is not None else [],
                    lambda r: {},
                ),
                "users-1-day": (
                    "raw.copilot_usage_users",
                    dataset.users(scope, day),
                    lambda r: {"user_id": r["user_id"]},
                ),
                "user-teams-1-day": (
                    "raw.copilot_user_teams",
                    dataset.user_teams(scope, day),
                    lambda r: {"user_id": r["user_id"], "team_id": r["team_id"]},
                ),
                "repos-1-day": (
                    "raw.copilot_repos",
                    dataset.repos(scope, day),
                    lambda r: {"repo_key": str(r["repository_id"])},
                ),
            }
            for report, (table, records, keys) in reports.items():
                records = [r for r in records if keep(scope, report, day, r)]
                partitions.setdefault(table, []).append(
                    {"scope_type": scope.type, "scope_name": scope.name, "report": report, "day": day}
                )
                rows.setdefault(table, []).extend(
                    _report_rows(scope, report, day, records, keys, load_id, loaded_at)
                )
                # inside the dataset's range GitHub answers 200 (an empty file on a quiet day)
                status, http = ("loaded", 200) if dataset.in_range(day) else ("no_report", 204)
                log.append(
                    {
                        "load_id": load_id,
                        "scope_type": scope.type,
                        "scope_name": scope.name,
                        "report": report,
                        "day": day,
                        "http_status": http,
                        "status": status,
                        "records": len(records),
                        "parts": 1 if records else 0,
                        "started_at": loaded_at,
                        "finished_at": loaded_at,
                    }
                )
                for key in {k for r in records for k in r}:
                    seen_keys.setdefault((report, key), []).append(day)
    for table, parts in partitions.items():
        done = pa.Table.from_pylist(parts)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(
            f"delete from {table} where (scope_type, scope_name, report, day) in "
            "(select (scope_type, scope_name, report, day) from done)"
        )
        _insert(con, table, rows.get(table, []))
    _insert(con, "raw.ingest_log", log)
    for (report, key), seen in sorted(seen_keys.items()):
        con.execute(
            """
            insert into raw.schema_keys (report, key, first_day, last_day, first_load_id)
            values (?, ?, ?, ?, ?)
            on conflict (report, key) do update set
                first_day = least(first_day, excluded.first_day),
                last_day = greatest(last_day, excluded.last_day)
            """,
            [report, key, min(seen), max(seen), load_id],
        )


def load_snapshots(con, dataset: Dataset, *, load_id: str, loaded_at: datetime | None = None) -> None:
    """Load the seats and billing snapshot (as of the dataset's end day) for every scope.

    The listing's own count goes to ``raw.copilot_seat_totals`` as GitHub sends it: ``total_seats``
    counts a member once (an enterprise listing repeats a member per granting org or team).
    """
    loaded_at = loaded_at or datetime.now(UTC)
    snapshot_day = dataset.config.end_day
    for scope in scopes_of(dataset):
        base = {"scope_type": scope.type, "scope_name": scope.name, "snapshot_day": snapshot_day}
        meta = {"_load_id": load_id, "_loaded_at": loaded_at, "_source": "seats_api"}
        con.execute(
            "delete from raw.copilot_seats where scope_type = ? and scope_name = ? and snapshot_day = ?",
            [scope.type, scope.name, snapshot_day],
        )
        _insert(
            con,
            "raw.copilot_seats",
            [
                {**base, "user_id": (s.get("assignee") or {}).get("id"), "record": json.dumps(s), **meta}
                for s in dataset.seats(scope)
            ],
        )
        _insert(con, "raw.copilot_billing", [{**base, "record": json.dumps(dataset.billing(scope)), **meta}])
        listing = dataset.seats(scope)
        con.execute(
            "delete from raw.copilot_seat_totals "
            "where scope_type = ? and scope_name = ? and snapshot_day = ?",
            [scope.type, scope.name, snapshot_day],
        )
        total = len({(s.get("assignee") or {}).get("id") for s in listing if s.get("assignee")})
        _insert(
            con,
            "raw.copilot_seat_totals",
            [{**base, "total_seats": total, "seat_rows": len(listing), **meta}],
        )


def load_latest_28_day(con, dataset: Dataset, *, load_id: str, loaded_at: datetime | None = None) -> None:
    """Load the ``*-28-day/latest`` reports (aggregate object and user lines) for every scope."""
    loaded_at = loaded_at or datetime.now(UTC)
    start, end = dataset.window_28_day()
    for scope in scopes_of(dataset):
        agg = dataset.aggregate_28_day(scope)
        users = dataset.users_28_day(scope)
        for report, records, line_key in (
            (AGGREGATE_28_DAY_REPORT[scope.type], [agg], lambda r: "totals"),
            ("users-28-day", users, lambda r: f"{r['user_id']}|{r['day']}"),
        ):
            rows = _report_rows(
                scope,
                report,
                end,
                records,
                lambda r, lk=line_key: {"report_start_day": start, "report_end_day": end, "line_key": lk(r)},
                load_id,
                loaded_at,
            )
            _insert(con, "raw.copilot_reports_28_day", rows)


def load_legacy(
    con, dataset: Dataset, days: Iterable[date], *, load_id: str, loaded_at: datetime | None = None
) -> None:
    """Load legacy /copilot/metrics day objects for the organizations (the API had no enterprise
    files in our archive)."""
    loaded_at = loaded_at or datetime.now(UTC)
    rows = []
    for scope in scopes_of(dataset):
        if scope.type != ORGANIZATION:
            continue
        for day in days:
            obj = dataset.legacy_day(scope, day)
            if obj is None:
                continue
            rows.append(
                {
                    "scope_type": scope.type,
                    "scope_name": scope.name,
                    "day": day,
                    "record": json.dumps(obj),
                    "_part": f"legacy/{scope.name}.json",
                    "_load_id": load_id,
                    "_loaded_at": loaded_at,
                    "_source": "legacy_metrics",
                }
            )
    _insert(con, "raw.copilot_legacy_metrics", rows)


# --- field cases: a folder of GitHub answers put into raw ------------------------------------------
# copied from ../shared/field-cases
FIELD_CASES = Path(__file__).resolve().parents[1] / "data" / "field-cases"
DAILY_REPORTS = {
    ORGANIZATION: ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
    ENTERPRISE: ("enterprise-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
}
REPORT_KEYS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "organization-1-day": ("raw.copilot_usage_aggregate", lambda r: {}),
    "enterprise-1-day": ("raw.copilot_usage_aggregate", lambda r: {}),
    "users-1-day": ("raw.copilot_usage_users", lambda r: {"user_id": r["user_id"]}),
    "user-teams-1-day": (
        "raw.copilot_user_teams",
        lambda r: {"user_id": r["user_id"], "team_id": r["team_id"]},
    ),
    "repos-1-day": (
        "raw.copilot_repos",
        lambda r: {
            "repo_key": str(r.get("repository_id") or r.get("repository_name") or r.get("repository"))
        },
    ),
}


def case_scopes(case_dir: Path) -> list[Scope]:
    """The scopes a field case configures (``scopes.json``): organizations, then enterprises."""
    cfg = json.loads((case_dir / "scopes.json").read_text())
    return [Scope(ORGANIZATION, o) for o in cfg.get("orgs", [])] + [
        Scope(ENTERPRISE, e) for e in cfg.get("enterprises", [])
    ]


def load_case(
    con,
    case_dir: Path,
    *,
    snapshot_day: date,
    load_id: str,
    loaded_at: datetime | None = None,
    scopes: Iterable[Scope] | None = None,
) -> dict[str, int]:
    """Put a field case's GitHub answers into raw as the ingest and the loader would.

    Every ``<scope>/<report>/<day>.ndjson`` becomes that partition's raw rows with a ``loaded``
    (HTTP 200) ingest-log row; every other daily report of a day the scope has any file for is
    logged ``no_report`` (HTTP 204), as GitHub answers a report the case has no file for. The
    seats listing (``<scope>/seats.json``) goes through the loader's own ``load_snapshot`` (raw
    seat rows plus the listing's ``total_seats``), taken on ``snapshot_day``.

    Args:
        con: open DuckDB connection with the raw schema.
        case_dir: the case folder (holding ``scopes.json``).
        snapshot_day: day of the seats snapshot.
        load_id: stamped on every row.
        loaded_at: stamped on every report row and log row (default now).
        scopes: scopes to load (default every scope of ``scopes.json``).

    Returns:
        ``{"records": n, "seats": n}`` rows written.
    """
    from copilot_warehouse.load import loader

    loaded_at = loaded_at or datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {}
    log: list[dict[str, Any]] = []
    seat_rows = 0
    for scope in scopes or case_scopes(case_dir):
        folder = case_dir / scope.name
        files = {
            (path.parent.name, date.fromisoformat(path.stem)): path
            for path in sorted(folder.glob("*/*.ndjson"))
        }
        for day in sorted({day for _, day in files}):
            for report in DAILY_REPORTS[scope.type]:
                table, keys = REPORT_KEYS[report]
                path = files.get((report, day))
                records = (
                    [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
                    if path
                    else []
                )
                rows.setdefault(table, []).extend(
                    _report_rows(scope, report, day, records, keys, load_id, loaded_at)
                )
                log.append(
                    {
                        "load_id": load_id,
                        "scope_type": scope.type,
                        "scope_name": scope.name,
                        "report": report,
                        "day": day,
                        "http_status": 200 if path else 204,
                        "status": "loaded" if path else "no_report",
                        "records": len(records),
                        "parts": 1 if records else 0,
                        "message": None if path else "no report for this day yet (HTTP 204)",
                        "started_at": loaded_at,
                        "finished_at": loaded_at,
                    }
                )
        seats_file = folder / "seats.json"
        if seats_file.is_file():
            listing = json.loads(seats_file.read_text())
            written = loader.load_snapshot(
                con,
                scope,
                snapshot_day,
                None,
                listing["seats"],
                load_id,
                total_seats=listing.get("total_seats"),
            )
            seat_rows += written["seats"]
    for table, table_rows in rows.items():
        _insert(con, table, table_rows)
    _insert(con, "raw.ingest_log", log)
    return {"records": sum(len(r) for r in rows.values()), "seats": seat_rows}
