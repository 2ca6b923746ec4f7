"""Raw JSON text stored zstd-compressed in the DuckDB warehouse (real DuckDB files).

A new warehouse declares every raw JSON text column ``using compression zstd`` and its checkpointed
segments are ZSTD; a warehouse built with the previous (plain) DDL is rewritten once at connect,
keeping every row in order and every column's name, type and NOT NULL; a second connect does
nothing; loads after the migration work; and dbt builds the same marts from a plain and a
migrated warehouse.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

import duckdb
import pytest
from copilot_dev.simulator import Dataset, SimulatorConfig
from copilot_warehouse import config, warehouse
from copilot_warehouse.config import ORGANIZATION, Scope, day_range
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader
from harness.duck import schema_rows
from harness.raw_fixtures import load_days, load_latest_28_day, load_legacy, load_snapshots

CONFIG = SimulatorConfig(
    start_day=date(2026, 10, 26),
    end_day=date(2026, 11, 8),
    users_per_org=30,
    legacy_start=date(2026, 10, 19),
    legacy_end=date(2026, 10, 27),
)
DATASET = Dataset(CONFIG)
LOADED_AT = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
ORG = Scope(ORGANIZATION, CONFIG.orgs[0])
VOLATILE_COLUMN = re.compile(r"(loaded_at|load_id|built_at|fetched_at|_run_at|generated_at|finished_at)$")


def _fill(con) -> None:
    """Every raw table that holds JSON text gets rows (legacy, daily, 28-day, seats, quarantine)."""
    load_legacy(
        con, DATASET, day_range(CONFIG.legacy_start, CONFIG.legacy_end), load_id="legacy", loaded_at=LOADED_AT
    )
    load_days(
        con, DATASET, day_range(CONFIG.start_day, CONFIG.end_day), load_id="load-1", loaded_at=LOADED_AT
    )
    load_latest_28_day(con, DATASET, load_id="load-1", loaded_at=LOADED_AT)
    load_snapshots(con, DATASET, load_id="load-1", loaded_at=LOADED_AT)
    con.execute(
        "insert into raw.quarantine values ('load-1', ?, ?, 'users-1-day', ?, 'part-0001.ndjson', 3, "
        "'malformed JSON', '{\"user_id\": 1, oops', ?)",
        (ORG.type, ORG.name, CONFIG.start_day, LOADED_AT),
    )


def _old_warehouse(path) -> None:
    """A warehouse as the previous code left it: the plain DDL, and a ``record json`` column
    (report tables created before ``record`` became VARCHAR), filled and checkpointed."""
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    con.execute(warehouse.PLAIN_DDL)
    con.execute("alter table raw.copilot_repos alter record type json")
    _fill(con)
    con.execute("checkpoint")
    con.close()


def _tables(path) -> dict[str, dict]:
    """Per raw table: its columns (name, type, nullable, default) and its rows in scan order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in warehouse.COMPRESSED_COLUMNS:
            schema, name = table.split(".")
            columns = con.execute(
                "select column_name, data_type, is_nullable, column_default from duckdb_columns() "
                "where schema_name = ? and table_name = ? order by column_index",
                (schema, name),
            ).fetchall()
            out[table] = {"columns": columns, "rows": con.execute(f"select * from {table}").fetchall()}
        return out
    finally:
        con.close()


def _compressions(path, table: str, column: str) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            c
            for (c,) in con.execute(
                "select distinct compression from pragma_storage_info(?) "
                "where column_name = ? and segment_type in ('VARCHAR', 'JSON')",
                (table, column),
            ).fetchall()
        }
    finally:
        con.close()


def test_a_new_warehouse_stores_raw_json_zstd(tmp_path) -> None:
    path = tmp_path / "new.duckdb"
    con = warehouse.connect(path)
    assert warehouse.plain_raw_tables(con) == []
    _fill(con)
    con.execute("checkpoint")
    con.close()
    for table, columns in warehouse.COMPRESSED_COLUMNS.items():
        for column in columns:
            assert _compressions(path, table, column) == {"ZSTD"}, (table, column)
    # the other string columns keep DuckDB's own choice
    assert "ZSTD" not in _compressions(path, "raw.copilot_usage_users", "_part")


def test_the_setting_none_keeps_duckdbs_default_and_bad_values_are_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(config.ENV_WAREHOUSE_COMPRESSION, " None ")
    con = warehouse.connect(tmp_path / "plain.duckdb")
    assert warehouse.plain_raw_tables(con) == list(warehouse.COMPRESSED_COLUMNS)
    con.close()
    monkeypatch.setenv(config.ENV_WAREHOUSE_COMPRESSION, "lz4")
    with pytest.raises(config.ConfigError, match="COPILOT_WAREHOUSE_COMPRESSION must be one of zstd, none"):
        warehouse.connect(tmp_path / "other.duckdb")


def test_an_old_warehouse_is_migrated_once_keeping_every_row(tmp_path, caplog) -> None:
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    before = _tables(path)
    assert all(t["rows"] for t in before.values()), {k: len(v["rows"]) for k, v in before.items()}
    assert "ZSTD" not in _compressions(path, "raw.copilot_usage_users", "record")

    with caplog.at_level(logging.INFO, logger="copilot_warehouse.warehouse"):
        con = warehouse.connect(path)
        assert warehouse.plain_raw_tables(con) == []
        con.close()
    after = _tables(path)
    assert after == before  # same columns (types, NOT NULLs, order) and rows, in the same order
    assert [c[1] for c in after["raw.copilot_repos"]["columns"] if c[0] == "record"] == ["JSON"]
    for table, columns in warehouse.COMPRESSED_COLUMNS.items():
        for column in columns:
            assert _compressions(path, table, column) == {"ZSTD"}, (table, column)
    users = len(before["raw.copilot_usage_users"]["rows"])
    assert f"stored raw.copilot_usage_users's record zstd-compressed (one-time migration): {users} rows" in (
        caplog.text
    )
    assert f"migrated {len(warehouse.COMPRESSED_COLUMNS)} raw table(s) to zstd" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="copilot_warehouse.warehouse"):
        con = warehouse.connect(path)
        assert warehouse.compress_raw_tables(con) == {}
        con.close()
    assert "migrat" not in caplog.text
    assert _tables(path) == before


def test_initialize_announces_a_one_time_migration_where_the_user_sees_it(tmp_path) -> None:
    """``make run``/``make backfill`` pass their printer: the migration says it starts and ends
    on the console (it can take minutes on a big warehouse), and says nothing the next time."""
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    said: list[str] = []
    warehouse.initialize(path, say=said.append)
    assert len(said) == 2, said
    assert said[0].startswith(
        f"Warehouse: one-time migration: storing the raw JSON of {len(warehouse.COMPRESSED_COLUMNS)} "
        "table(s) zstd-compressed"
    )
    assert said[1].strip().startswith("migrated in ")
    said.clear()
    warehouse.initialize(path, say=said.append)
    warehouse.initialize(tmp_path / "new.duckdb", say=said.append)
    assert said == []


class _FailingDrop:
    """A connection whose ``drop table`` of one table fails: after the copy, before the swap."""

    def __init__(self, con, table: str) -> None:
        self._con, self._table = con, table

    def execute(self, sql: str, *args):
        if sql.strip() == f"drop table {self._table}":
            raise duckdb.IOException("disk full")
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def test_a_failed_migration_leaves_the_table_as_it_was(tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    _old_warehouse(path)
    before = _tables(path)
    con = duckdb.connect(str(path))
    with pytest.raises(duckdb.IOException, match="disk full"):
        warehouse.compress_raw_tables(_FailingDrop(con, "raw.copilot_usage_users"))
    left = warehouse.plain_raw_tables(con)
    assert "raw.copilot_usage_aggregate" not in left  # the table before it was swapped
    assert "raw.copilot_usage_users" in left  # this one rolled back, as it was
    assert not con.execute("select 1 from duckdb_tables() where table_name like '%zstd'").fetchall()
    con.close()
    assert _tables(path) == before
    con = warehouse.connect(path)  # the next connect finishes the job
    assert warehouse.plain_raw_tables(con) == []
    con.close()
    assert _tables(path) == before


def test_loads_after_the_migration_work(tmp_path) -> None:
    path, landing = tmp_path / "old.duckdb", tmp_path / "landing"
    _old_warehouse(path)
    day = date(2026, 11, 5)  # a weekday with activity
    lines = DATASET.report_lines(ORG, "users-1-day", day)
    assert lines
    zone.write_partition(
        landing,
        ORG,
        "users-1-day",
        day,
        200,
        {zone.part_name(1): "".join(f"{ln}\n" for ln in lines).encode()},
    )
    con = warehouse.connect(path)
    result = loader.load_partition(con, ORG, "users-1-day", day, str(landing), "load-2")
    assert result.records == len(lines)
    stored = con.execute(
        "select count(*), count(distinct _load_id) from raw.copilot_usage_users "
        "where scope_name = ? and day = ?",
        (ORG.name, day),
    ).fetchall()
    con.execute("checkpoint")
    con.close()
    assert stored == [(len(lines), 1)]
    assert _compressions(path, "raw.copilot_usage_users", "record") == {"ZSTD"}


@pytest.mark.integration
def test_plain_and_migrated_warehouses_build_the_same_marts(tmp_path, monkeypatch) -> None:
    from copilot_warehouse.transform import dbt_runner

    plain, migrated = tmp_path / "plain.duckdb", tmp_path / "migrated.duckdb"
    _old_warehouse(plain)
    _old_warehouse(migrated)
    warehouse.connect(migrated).close()
    assert _tables(plain) == _tables(migrated)
    for db, setting in ((plain, "none"), (migrated, "zstd")):
        # dbt_runner.build initialises the warehouse first: with "none" the plain one stays plain
        monkeypatch.setenv(config.ENV_WAREHOUSE_COMPRESSION, setting)
        result = dbt_runner.build(db, target_path=tmp_path / f"target-{db.stem}")
        assert result.success, result
    assert _compressions(plain, "raw.copilot_usage_users", "record") != {"ZSTD"}
    assert _compressions(migrated, "raw.copilot_usage_users", "record") == {"ZSTD"}
    marts_plain = schema_rows(plain, "marts", VOLATILE_COLUMN.search)
    assert marts_plain and any(marts_plain.values())
    assert schema_rows(migrated, "marts", VOLATILE_COLUMN.search) == marts_plain
