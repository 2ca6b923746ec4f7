"""Exports: every mart as Parquet and CSV, row for row, from a warehouse opened read-only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from copilot_warehouse.serve import export
from copilot_warehouse.serve.export import ExportError, export_marts
from harness.report_fixtures import ALL_MARTS, make_marts_warehouse

READERS = {"parquet": "read_parquet", "csv": "read_csv"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_marts_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def exported(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return export_marts(warehouse, tmp_path_factory.mktemp("exports"))


def _mart_counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {n: con.execute(f"select count(*) from marts.{n}").fetchall()[0][0] for n in names}
    finally:
        con.close()


def test_one_file_per_mart_and_format(exported, warehouse):
    expected = sorted(f"{m}.{fmt}" for m in _mart_counts(warehouse) for fmt in ("parquet", "csv"))
    assert sorted(p.name for p in exported) == expected
    assert sorted(p.name for p in exported[0].parent.iterdir()) == expected  # no temp files left
    assert {p.stem for p in exported} == set(ALL_MARTS)


@pytest.mark.parametrize("fmt", [pytest.param("parquet", id="parquet"), pytest.param("csv", id="csv")])
def test_row_counts_match_the_marts(exported, warehouse, fmt):
    counts = _mart_counts(warehouse)
    con = duckdb.connect()
    try:
        got = {
            p.stem: con.execute(f"select count(*) from {READERS[fmt]}('{p}')").fetchall()[0][0]
            for p in exported
            if p.suffix == f".{fmt}"
        }
    finally:
        con.close()
    assert got == counts
    assert all(n > 0 for n in counts.values())


@pytest.mark.parametrize("mart", [pytest.param(m, id=m) for m in ALL_MARTS])
def test_parquet_holds_the_same_rows_and_types(exported, warehouse, mart):
    (parquet,) = [p for p in exported if p.name == f"{mart}.parquet"]
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        assert (
            con.execute(f"describe select * from read_parquet('{parquet}')").fetchall()
            == con.execute(f"describe select * from wh.marts.{mart}").fetchall()
        )
        mart_rows, file_rows = f"select * from wh.marts.{mart}", f"select * from read_parquet('{parquet}')"
        diff = con.execute(
            f"select count(*) from (({mart_rows} except all {file_rows}) "
            f"union all ({file_rows} except all {mart_rows}))"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert diff == 0


def test_csv_has_a_header_with_the_mart_columns(exported, warehouse):
    (csv,) = [p for p in exported if p.name == "fct_copilot_usage_daily.csv"]
    header = csv.read_text(encoding="utf-8").splitlines()[0].split(",")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = [r[0] for r in con.execute("describe marts.fct_copilot_usage_daily").fetchall()]
    finally:
        con.close()
    assert header == columns


def test_export_leaves_the_warehouse_untouched_and_runs_beside_a_reader(warehouse, tmp_path):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    reader = duckdb.connect(str(warehouse), read_only=True)  # another reader holds the file open
    try:
        assert export_marts(warehouse, tmp_path / "out")
    finally:
        reader.close()
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


def test_reexport_replaces_files(warehouse, tmp_path):
    first = export_marts(warehouse, tmp_path, formats=("csv",))
    stale = first[0]
    stale.write_text("stale", encoding="utf-8")
    second = export_marts(warehouse, tmp_path, formats=("csv",))
    assert first == second
    assert stale.read_text(encoding="utf-8") != "stale"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: None, "does not exist: run `make run`", id="missing warehouse"),
        pytest.param(
            lambda p: duckdb.connect(str(p)).close(), "has no tables in schema 'marts'", id="no marts"
        ),
    ],
)
def test_nothing_to_export_is_a_clear_error(tmp_path, make, message):
    wh = tmp_path / "warehouse.duckdb"
    make(wh)
    with pytest.raises(ExportError, match=message):
        export_marts(wh, tmp_path / "out")


def test_unknown_format_is_rejected(warehouse, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export_marts(warehouse, tmp_path, formats=("xlsx",))


@pytest.mark.parametrize(
    ("args", "exit_code", "files"),
    [
        pytest.param(["--out-dir", "{out}"], 0, 2 * len(ALL_MARTS), id="both formats into --out-dir"),
        pytest.param(["--out-dir", "{out}", "--format", "parquet"], 0, len(ALL_MARTS), id="parquet only"),
        pytest.param(
            ["--warehouse", "{missing}", "--out-dir", "{out}"], 1, 0, id="missing warehouse exits 1"
        ),
    ],
)
def test_cli(warehouse, tmp_path, monkeypatch, capsys, args, exit_code, files):
    monkeypatch.setenv("COPILOT_WAREHOUSE_PATH", str(warehouse))
    argv = [a.format(out=tmp_path / "out", missing=tmp_path / "missing.duckdb") for a in args]
    assert export.cli("export", argv) == exit_code
    printed = capsys.readouterr().out.split()
    assert len(printed) == files
    assert all(Path(p).is_file() for p in printed)


def test_default_out_dir_is_exports(warehouse, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = export_marts(warehouse, formats=("csv",))
    assert {p.parent.resolve() for p in paths} == {(tmp_path / "exports").resolve()}
