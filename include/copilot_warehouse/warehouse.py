"""The DuckDB warehouse: connections (with a bounded wait for the file lock) and the raw schema.

Raw tables keep each record's untouched JSON plus its keys and load metadata; dbt's staging
models are the only readers. Every table is replaced one partition at a time by ``loader``.
:func:`initialize` (the set-up every run starts with) creates them all before the first load.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from copilot_warehouse import config

log = logging.getLogger(__name__)

# Columns every report table carries: partition keys, the record, and load metadata.
_PARTITION_COLUMNS = """
    scope_type   varchar not null,   -- 'organization' | 'enterprise'
    scope_name   varchar not null,   -- org or enterprise slug
    report       varchar not null,   -- GitHub report name, e.g. 'users-1-day'
    day          date    not null,   -- report day (UTC)
"""
# `record` is VARCHAR holding the JSON text: the loader has already parsed and checked every line,
# and a JSON column would parse each record once more on insert (~8% of a large partition's load).
# Warehouses created before keep their JSON column; both read the same with DuckDB's JSON functions.
_LOAD_COLUMNS = """
    record       varchar not null,   -- the record exactly as GitHub sent it (JSON text)
    _part        varchar not null,   -- landing file the record came from (relative path)
    _line        integer not null,   -- 1-based line number in that file
    _load_id     varchar not null,   -- load that wrote the row
    _loaded_at   timestamptz not null,
    _source      varchar not null    -- 'usage_metrics' | 'legacy_metrics' | 'seats_api'
"""

# Report name -> raw table and the key columns (beyond scope/report/day) that identify a record.
REPORT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "organization-1-day": ("raw.copilot_usage_aggregate", ()),
    "enterprise-1-day": ("raw.copilot_usage_aggregate", ()),
    "users-1-day": ("raw.copilot_usage_users", ("user_id",)),
    "user-teams-1-day": ("raw.copilot_user_teams", ("user_id", "team_id")),
    "repos-1-day": ("raw.copilot_repos", ("repo_key",)),
    "organization-28-day": ("raw.copilot_reports_28_day", ("line_key",)),
    "enterprise-28-day": ("raw.copilot_reports_28_day", ("line_key",)),
    "users-28-day": ("raw.copilot_reports_28_day", ("line_key",)),
}

DDL = f"""
create schema if not exists raw;

create table if not exists raw.copilot_usage_aggregate (
    {_PARTITION_COLUMNS}
    {_LOAD_COLUMNS}
);

create table if not exists raw.copilot_usage_users (
    {_PARTITION_COLUMNS}
    user_id      bigint  not null,
    {_LOAD_COLUMNS}
);

create table if not exists raw.copilot_user_teams (
    {_PARTITION_COLUMNS}
    user_id      bigint  not null,
    team_id      bigint  not null,
    {_LOAD_COLUMNS}
);

create table if not exists raw.copilot_repos (
    {_PARTITION_COLUMNS}
    repo_key     varchar not null,   -- repository id, or name when no id is present
    {_LOAD_COLUMNS}
);

-- *-28-day/latest reports; day = report_end_day. Kept for the completeness check.
create table if not exists raw.copilot_reports_28_day (
    {_PARTITION_COLUMNS}
    report_start_day date,
    report_end_day   date,
    line_key     varchar not null,   -- user_id|day for user lines, 'totals' for aggregate files
    {_LOAD_COLUMNS}
);

-- Daily snapshots of /copilot/billing (one row per scope and snapshot day).
create table if not exists raw.copilot_billing (
    scope_type   varchar not null,
    scope_name   varchar not null,
    snapshot_day date    not null,
    record       json    not null,
    _load_id     varchar not null,
    _loaded_at   timestamptz not null,
    _source      varchar not null
);

-- Daily snapshots of every page of /copilot/billing/seats (one row per seat object).
create table if not exists raw.copilot_seats (
    scope_type   varchar not null,
    scope_name   varchar not null,
    snapshot_day date    not null,
    user_id      bigint,             -- assignee.id (null for a seat without an assignee)
    record       json    not null,
    _load_id     varchar not null,
    _loaded_at   timestamptz not null,
    _source      varchar not null
);

-- The seats listing's own count per snapshot: GitHub's `total_seats` (seats currently billed, a
-- member counted once) beside the number of seat rows the listing held (rows may be null or
-- Team-shaped assignees, and enterprise listings repeat a member once per granting org/team).
create table if not exists raw.copilot_seat_totals (
    scope_type   varchar not null,
    scope_name   varchar not null,
    snapshot_day date    not null,
    total_seats  bigint,             -- as GitHub sent it (null when the listing did not say)
    seat_rows    bigint  not null,   -- seat objects in the listing, every page
    _load_id     varchar not null,
    _loaded_at   timestamptz not null,
    _source      varchar not null
);

-- Days from the retired legacy /copilot/metrics API (archived JSON or a live server).
create table if not exists raw.copilot_legacy_metrics (
    scope_type   varchar not null,
    scope_name   varchar not null,
    day          date    not null,
    record       json    not null,
    _part        varchar not null,
    _load_id     varchar not null,
    _loaded_at   timestamptz not null,
    _source      varchar not null    -- always 'legacy_metrics'
);

-- One row per attempt to fetch/load a partition; the latest row per partition is its state.
create table if not exists raw.ingest_log (
    load_id      varchar not null,
    scope_type   varchar not null,
    scope_name   varchar not null,
    report       varchar not null,
    day          date    not null,
    http_status  integer,            -- status of the report call (200, 204, 403, ...)
    status       varchar not null,   -- 'loaded' | 'no_report' | 'failed' | 'skipped'
    records      integer not null default 0,
    quarantined  integer not null default 0,
    duplicates   integer not null default 0,
    parts        integer not null default 0,
    retries      integer not null default 0,
    message      varchar,            -- reason for no_report/failed/skipped (redacted)
    started_at   timestamptz,
    finished_at  timestamptz not null
);

-- Whether a report is offered for a scope: one row per probe, the latest row per (scope, report)
-- is its state. A report answering 404 for a scope that is otherwise available (repos-1-day is
-- newer than the others; not every plan or region has it) is 'unavailable' and is not fetched
-- day by day; it is probed again at most once per UTC day.
create table if not exists raw.report_availability (
    scope_type   varchar not null,
    scope_name   varchar not null,
    report       varchar not null,
    available    boolean not null,
    http_status  integer,            -- status of the probing call (200, 204, 404, ...)
    reason       varchar,            -- why it is unavailable (redacted), null when available
    checked_day  date    not null,   -- UTC day of the probe
    checked_at   timestamptz not null,
    load_id      varchar not null
);

-- Lines that could not be loaded, with the reason and the raw line, never silently dropped.
create table if not exists raw.quarantine (
    load_id      varchar not null,
    scope_type   varchar not null,
    scope_name   varchar not null,
    report       varchar not null,
    day          date    not null,
    _part        varchar not null,
    _line        integer,
    reason       varchar not null,
    raw_line     varchar,
    quarantined_at timestamptz not null
);

-- Every top-level key seen per report, with the first day it appeared (schema drift).
create table if not exists raw.schema_keys (
    report       varchar not null,
    key          varchar not null,
    first_day    date    not null,
    last_day     date    not null,
    first_load_id varchar not null,
    primary key (report, key)
);
"""


class WarehouseLockedError(RuntimeError):
    """Another process holds the DuckDB file's write lock longer than we were willing to wait."""


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    lock_timeout: float = 60.0,
    poll_interval: float = 0.5,
):
    """Open the DuckDB warehouse, waiting up to ``lock_timeout`` seconds for another writer.

    Args:
        path: DuckDB file; default ``config.warehouse_path()``.
        read_only: open read-only (readers never block each other).
        lock_timeout: bounded wait for a lock held by another process.
        poll_interval: seconds between attempts.

    Returns:
        A ``duckdb.DuckDBPyConnection``; the raw schema exists when ``read_only`` is false.

    Raises:
        WarehouseLockedError: the file stayed locked for ``lock_timeout`` seconds.
    """
    import duckdb

    path = Path(path or config.warehouse_path())
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:  # "Could not set lock on file ..."
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"the warehouse {path} is locked by another process (waited {lock_timeout:.0f}s); "
                    "DuckDB allows one writer: wait for the other run to finish, or stop it"
                ) from None
            time.sleep(poll_interval)
    # Results never depend on the host's time zone: timestamps are read, cast and truncated in UTC.
    con.execute("set TimeZone = 'UTC'")
    if not read_only:
        con.execute(DDL)
    return con


def initialize(path: str | Path | None = None, *, lock_timeout: float = 60.0) -> Path:
    """The warehouse set-up: create the file, the ``raw`` schema and every raw table if missing.

    Runs before any fetch, so dbt always finds its sources (empty marts on a warehouse where
    nothing was loaded yet, e.g. after a first run whose every scope was skipped). Idempotent.

    Returns:
        The warehouse path.

    Raises:
        WarehouseLockedError: another process kept the write lock for ``lock_timeout`` seconds.
    """
    path = Path(path or config.warehouse_path())
    connect(path, lock_timeout=lock_timeout).close()
    return path
