"""The DuckDB warehouse: connections (with a bounded wait for the file lock) and the raw schema.

Raw tables keep each record's untouched JSON plus its keys and load metadata; dbt's staging
models are the only readers. Every table is replaced one partition at a time by ``loader``.
:func:`initialize` (the set-up every run starts with) creates them all before the first load.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
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
# {zstd} marks the raw JSON text columns stored zstd-compressed (see `ddl` and COMPRESSED_COLUMNS).
_LOAD_COLUMNS = """
    record       varchar {zstd} not null,   -- the record exactly as GitHub sent it (JSON text)
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

_DDL_TEMPLATE = f"""
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
    record       json {{zstd}} not null,
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
    record       json {{zstd}} not null,
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
    record       json {{zstd}} not null,
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
    raw_line     varchar {{zstd}},
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


# The raw tables' JSON text columns, stored zstd-compressed (config.warehouse_compression()).
# DuckDB's default string compression (dictionary/FSST) keeps about a third of a record's bytes;
# zstd over each vector of 2,048 records keeps about a fifteenth, and queries read the columns as
# before (VARCHAR/JSON). Only the storage of these columns changes, never their type or values.
COMPRESSED_COLUMNS: dict[str, tuple[str, ...]] = {
    **{table: ("record",) for table, _ in REPORT_TABLES.values()},
    "raw.copilot_billing": ("record",),
    "raw.copilot_seats": ("record",),
    "raw.copilot_legacy_metrics": ("record",),
    "raw.quarantine": ("raw_line",),
}
_ZSTD = "using compression zstd"


def ddl(compression: str | None = None) -> str:
    """The raw schema's DDL, raw JSON text columns declared ``using compression zstd`` or not.

    Args:
        compression: ``zstd`` or ``none``; default the setting ``COPILOT_WAREHOUSE_COMPRESSION``.
    """
    clause = _ZSTD if config.warehouse_compression(compression) == "zstd" else ""
    return _DDL_TEMPLATE.replace("{zstd}", clause)


DDL = ddl("zstd")
PLAIN_DDL = ddl("none")  # the raw schema as warehouses created before compression declared it


def _declared_zstd(table_sql: str, column: str) -> bool:
    """Whether the stored ``CREATE TABLE`` (``duckdb_tables().sql``) declares ``column`` zstd."""
    pattern = rf'[(,]\s*"?{re.escape(column)}"?\s+\w+\s+USING\s+COMPRESSION\s+ZSTD\b'
    return re.search(pattern, table_sql, re.IGNORECASE) is not None


def _zstd_unavailable(exc: Exception) -> bool:
    """DuckDB refused zstd because the file's storage version predates it (DuckDB < 1.2 files)."""
    text = str(exc).lower()
    return "zstd" in text and "not available" in text


def plain_raw_tables(con) -> list[str]:
    """The raw tables of COMPRESSED_COLUMNS holding a JSON text column not declared zstd."""
    stored = dict(
        con.execute(
            "select schema_name || '.' || table_name, sql from duckdb_tables() "
            "where database_name = current_database() and schema_name = 'raw'"
        ).fetchall()
    )
    return [
        table
        for table, columns in COMPRESSED_COLUMNS.items()
        if table in stored and not all(_declared_zstd(stored[table], c) for c in columns)
    ]


def compress_raw_tables(con) -> dict[str, int]:
    """One-time migration: rewrite raw tables whose JSON text columns are stored plain, zstd.

    Warehouses created before compression keep plain columns (the DDL is ``create table if not
    exists``). Each such table is copied into a new table of the same columns, order, types,
    defaults and NOT NULLs, its JSON text columns declared ``using compression zstd``, and swapped
    in, one transaction per table (a failure leaves that table as it was). Rows keep their order.
    Nothing is done, at the cost of one catalog query, when every table is compressed already.

    Returns:
        Rows rewritten per table migrated (empty when nothing needed it).
    """
    done: dict[str, int] = {}
    for table in plain_raw_tables(con):
        schema, name = table.split(".")
        columns = con.execute(
            "select column_name, data_type, is_nullable, column_default from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ? "
            "order by column_index",
            (schema, name),
        ).fetchall()
        other = con.execute(
            "select count(*) from duckdb_constraints() where database_name = current_database() "
            "and schema_name = ? and table_name = ? and constraint_type <> 'NOT NULL'",
            (schema, name),
        ).fetchall()[0][0]
        if other:  # not a table this module created: leave it alone rather than drop a constraint
            log.warning("warehouse: %s has constraints other than NOT NULL; left uncompressed", table)
            continue
        targets = COMPRESSED_COLUMNS[table]
        defs = []
        for col, dtype, nullable, default in columns:
            d = f"{_ident(col)} {dtype}"
            if col in targets:
                d += f" {_ZSTD}"
            if default is not None:
                d += f" default {default}"
            if not nullable:
                d += " not null"
            defs.append(d)
        new = f"{name}__zstd"
        col_list = ", ".join(_ident(c[0]) for c in columns)
        started = time.monotonic()
        con.begin()
        try:
            con.execute(f"drop table if exists {schema}.{new}")
            con.execute(f"create table {schema}.{new} ({', '.join(defs)})")
            con.execute(f"insert into {schema}.{new} ({col_list}) select {col_list} from {table}")
            rows = con.execute(f"select count(*) from {schema}.{new}").fetchall()[0][0]
            before = con.execute(f"select count(*) from {table}").fetchall()[0][0]
            if rows != before:  # cannot happen inside one transaction; never swap on a doubt
                raise RuntimeError(f"{table}: copied {rows} rows of {before}")
            con.execute(f"drop table {table}")
            con.execute(f"alter table {schema}.{new} rename to {name}")
            con.commit()
        except Exception as exc:
            con.rollback()
            if _zstd_unavailable(exc):
                log.warning(
                    "warehouse: the file's storage version predates zstd; raw tables stay "
                    "uncompressed (copy the database into a new file to upgrade it)"
                )
                break
            raise
        done[table] = rows
        log.info(
            "warehouse: stored %s's %s zstd-compressed (one-time migration): %d rows rewritten in %.1f s",
            table,
            ", ".join(targets),
            rows,
            time.monotonic() - started,
        )
    if done:
        con.execute("checkpoint")  # write the new tables compressed and free the old blocks now
        log.info(
            "warehouse: migrated %d raw table(s) to zstd, %d rows in all",
            len(done),
            sum(done.values()),
        )
    return done


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_schema(con, compression: str | None = None) -> dict[str, int]:
    """Create the raw schema if missing; with zstd, migrate plain raw tables once (see above).

    Returns:
        Rows rewritten per migrated table (empty when nothing was migrated).
    """
    compression = config.warehouse_compression(compression)
    try:
        con.execute(ddl(compression))
    except Exception as exc:
        if compression != "zstd" or not _zstd_unavailable(exc):
            raise
        log.warning("warehouse: the file's storage version predates zstd; raw tables stay uncompressed")
        con.execute(PLAIN_DDL)
        return {}
    return compress_raw_tables(con) if compression == "zstd" else {}


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
        ensure_schema(con)
    return con


def initialize(
    path: str | Path | None = None, *, lock_timeout: float = 60.0, say: Callable[[str], None] | None = None
) -> Path:
    """The warehouse set-up: create the file, the ``raw`` schema and every raw table if missing.

    Runs before any fetch, so dbt always finds its sources (empty marts on a warehouse where
    nothing was loaded yet, e.g. after a first run whose every scope was skipped). Idempotent.

    Returns:
        The warehouse path.

    Args:
        path: DuckDB file; default ``config.warehouse_path()``.
        lock_timeout: bounded wait for another writer's lock, in seconds.
        say: where to announce a one-time migration of raw tables and its duration (console
            commands pass their printer; Airflow tasks log it through the module's logger).

    Raises:
        WarehouseLockedError: another process kept the write lock for ``lock_timeout`` seconds.
    """
    path = Path(path or config.warehouse_path())
    plain = _plain_tables(path) if say is not None else []
    if plain:
        say(
            f"Warehouse: one-time migration: storing the raw JSON of {len(plain)} table(s) "
            f"zstd-compressed ({path.stat().st_size / 1e9:.2f} GB file, about a minute per GB; "
            "each table is its own transaction, so an interrupted run resumes next time)"
        )
    started = time.monotonic()
    connect(path, lock_timeout=lock_timeout).close()
    if plain:
        say(f"      migrated in {time.monotonic() - started:.1f}s")
    return path


def _plain_tables(path: Path) -> list[str]:
    """Raw tables the next writable connect will migrate (none when unknown or not zstd)."""
    if not path.exists() or config.warehouse_compression() != "zstd":
        return []
    try:
        con = connect(path, read_only=True, lock_timeout=0)
    except Exception:  # noqa: BLE001 - locked or unreadable: the writable connect says why
        return []
    try:
        return plain_raw_tables(con)
    finally:
        con.close()
