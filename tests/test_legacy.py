"""Legacy /copilot/metrics archives into raw.copilot_legacy_metrics, the CLI, and fetching live."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from copilot_warehouse import warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.extract import legacy
from copilot_warehouse.extract.client import CopilotClient
from copilot_warehouse.pipeline import ingest

ARCHIVE = Path(__file__).parent / "data" / "legacy" / "octo-demo-2026-03.json"
ORG = Scope("organization", "octo-demo")


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(db):
    connection = warehouse.connect(db, lock_timeout=5)
    yield connection
    connection.close()


def rows(con, sql: str, params: tuple = ()) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def test_a_documented_archive_imports_one_row_per_day(con):
    result = legacy.import_legacy(con, ARCHIVE, ORG, "legacy-1")

    assert (result["days"], result["first_day"], result["last_day"], result["quarantined"]) == (
        3,
        "2026-03-17",
        "2026-03-19",
        0,
    )
    got = rows(
        con,
        "select scope_type, scope_name, day::varchar, _part, _load_id, _source, "
        "record->>'$.total_engaged_users' from raw.copilot_legacy_metrics order by day",
    )
    assert got == [
        ("organization", "octo-demo", "2026-03-17", ARCHIVE.name, "legacy-1", "legacy_metrics", "205"),
        ("organization", "octo-demo", "2026-03-18", ARCHIVE.name, "legacy-1", "legacy_metrics", "213"),
        ("organization", "octo-demo", "2026-03-19", ARCHIVE.name, "legacy-1", "legacy_metrics", "9"),
    ]
    [(record,)] = rows(con, "select record::varchar from raw.copilot_legacy_metrics where day = '2026-03-18'")
    assert json.loads(record) == json.loads(ARCHIVE.read_text())[1], "the day object lands untouched"
    assert rows(con, "select report, status, records from raw.ingest_log") == [
        ("legacy-metrics", "loaded", 3)
    ]


def test_importing_again_replaces_those_days_and_keeps_others(con, tmp_path):
    legacy.import_legacy(con, ARCHIVE, ORG, "legacy-1")
    newer = [{"date": "2026-03-19", "total_active_users": 13, "total_engaged_users": 10}]
    (tmp_path / "fix.json").write_text(json.dumps(newer))
    legacy.import_legacy(con, tmp_path / "fix.json", ORG, "legacy-2")
    legacy.import_legacy(con, ARCHIVE, Scope("organization", "acme-labs"), "legacy-3")
    assert rows(
        con,
        "select scope_name, day::varchar, record->>'$.total_active_users' from raw.copilot_legacy_metrics "
        "where scope_name = 'octo-demo' order by day",
    ) == [
        ("octo-demo", "2026-03-17", "240"),
        ("octo-demo", "2026-03-18", "247"),
        ("octo-demo", "2026-03-19", "13"),
    ]
    assert rows(con, "select count(*) from raw.copilot_legacy_metrics where scope_name = 'acme-labs'") == [
        (3,)
    ]


@pytest.mark.parametrize(
    "bad_object, reason",
    [
        pytest.param({"total_active_users": 1}, "missing date", id="no date"),
        pytest.param({"date": "18/03/2026"}, "date is not YYYY-MM-DD", id="badly written date"),
        pytest.param({"date": 20260318}, "date is not a string", id="date as a number"),
        pytest.param("2026-03-18", "not a JSON object", id="a string instead of an object"),
        pytest.param(
            {"date": "2026-03-20", "total_active_users": -4}, "total_active_users is not", id="negative"
        ),
    ],
)
def test_bad_day_objects_are_quarantined_and_the_rest_imports(con, tmp_path, bad_object, reason):
    days = json.loads(ARCHIVE.read_text())
    (tmp_path / "a.json").write_text(json.dumps([days[0], bad_object, days[1]]))
    result = legacy.import_legacy(con, tmp_path / "a.json", ORG, "legacy-1")
    assert (result["days"], result["quarantined"]) == (2, 1)
    [(report, line, got_reason, raw)] = rows(
        con, "select report, _line, reason, raw_line from raw.quarantine"
    )
    assert (report, line) == ("legacy-metrics", 2)
    assert got_reason.startswith(reason)
    assert json.loads(raw) == bad_object


def test_repeated_days_keep_the_first_object(con, tmp_path):
    days = json.loads(ARCHIVE.read_text())
    (tmp_path / "a.json").write_text(json.dumps([days[0], {**days[0], "total_active_users": 1}]))
    result = legacy.import_legacy(con, tmp_path / "a.json", ORG, "legacy-1")
    assert (result["days"], result["files"][0]["duplicates"]) == (1, 1)
    assert rows(con, "select record->>'$.total_active_users' from raw.copilot_legacy_metrics") == [("240",)]


def test_a_folder_imports_file_by_file_and_a_broken_file_loses_nothing(con, tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    shutil.copy(ARCHIVE, folder / "2026-03.json")
    (folder / "2026-02.ndjson").write_text(
        json.dumps({"date": "2026-02-27", "total_active_users": 3}) + "\n{not json\n"
    )
    (folder / "broken.json").write_text('[{"date": "2026-01-01"')  # truncated array
    (folder / "notes.txt").write_text("ignored")
    result = legacy.import_legacy(con, folder, ORG, "legacy-1")
    assert [(f["file"], f["days"], f["quarantined"]) for f in result["files"]] == [
        ("2026-02.ndjson", 1, 1),
        ("2026-03.json", 3, 0),
    ]
    assert len(result["errors"]) == 1 and "broken.json: not JSON" in result["errors"][0]
    assert rows(con, "select count(*) from raw.copilot_legacy_metrics") == [(4,)]


def _cli(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "copilot_warehouse", "import-legacy", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_imports_and_prints_the_days(db):
    done = _cli("--file", str(ARCHIVE), "--org", "octo-demo", "--warehouse", str(db))
    assert done.returncode == 0, done.stderr
    assert "organization:octo-demo: 3 days imported (2026-03-17..2026-03-19), 0 quarantined" in done.stdout
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from raw.copilot_legacy_metrics").fetchall() == [(3,)]
    finally:
        con.close()


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(
            ["--org", "bad slug!"], "is not a valid GitHub organization name", id="invalid org slug"
        ),
        pytest.param(["--org=-leading"], "is not a valid GitHub organization name", id="leading hyphen"),
    ],
)
def test_cli_refuses_a_bad_slug_before_touching_the_warehouse(db, args, message):
    done = _cli("--file", str(ARCHIVE), *args, "--warehouse", str(db))
    assert done.returncode == 2
    assert message in done.stderr
    assert not db.exists()


def test_cli_names_a_missing_file(db, tmp_path):
    done = _cli("--file", str(tmp_path / "missing.json"), "--org", "octo-demo", "--warehouse", str(db))
    assert done.returncode == 2
    assert "missing.json: no such file or folder" in done.stderr


# --- a live server (the simulator) -----------------------------------------------------------------
@pytest.mark.integration
def test_fetch_legacy_lands_days_that_load_receipts_imports(make_simulator, tmp_path, db):
    server = make_simulator(legacy_start=date(2026, 3, 1), legacy_end=date(2026, 3, 31))
    landing_root = tmp_path / "landing"
    with CopilotClient(server.url, "sim-token", max_attempts=1) as client:
        receipt = legacy.fetch_legacy(client, ORG, "2026-03-10", "2026-03-20", landing_root)
    expected = server.dataset.legacy_days(ORG, date(2026, 3, 10), date(2026, 3, 20))
    assert (receipt["status"], receipt["records"]) == ("landed", len(expected))
    json.dumps(receipt)
    summary = ingest.load_receipts([receipt], db, landing_root)
    assert summary["scopes"]["organization:octo-demo"]["legacy-metrics"]["records"] == len(expected)
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute(
            "select record::varchar, _part from raw.copilot_legacy_metrics order by day"
        ).fetchall()
    finally:
        con.close()
    assert [json.loads(r) for r, _ in got] == expected
    assert got[0][1] == "organization/octo-demo/legacy-metrics/2026-03-20/part-0001.json"


@pytest.mark.integration
def test_a_404_from_the_legacy_api_is_reported_as_retired_not_retried(simulator, tmp_path, db):
    landing_root = tmp_path / "landing"
    with CopilotClient(simulator.url, "sim-token", max_attempts=5, sleep=lambda s: None) as client:
        receipt = legacy.fetch_legacy(client, ORG, "2026-05-01", "2026-05-10", landing_root)
    assert (receipt["status"], receipt["http_status"]) == ("retired", 404)
    assert "retired by GitHub on 2026-04-02" in receipt["message"]
    assert simulator.count(r"/orgs/octo-demo/copilot/metrics$") == 1, "not retried"
    summary = ingest.load_receipts([receipt], db, landing_root)
    assert summary["scopes"]["organization:octo-demo"]["legacy-metrics"]["skipped"] == 1
    assert not (landing_root / "organization").exists()


# --- engaged users per language and editor in the by-dimension mart ------------------------------
def _completion_cell(name: str, engaged: int, suggestions: int) -> dict:
    return {
        "name": name,
        "total_engaged_users": engaged,
        "total_code_suggestions": suggestions,
        "total_code_acceptances": suggestions // 4,
        "total_code_lines_suggested": suggestions * 2,
        "total_code_lines_accepted": suggestions // 2,
    }


def _model(name: str, engaged: int, *languages: dict) -> dict:
    return {"name": name, "is_custom_model": False, "custom_model_training_date": None,
            "total_engaged_users": engaged, "languages": list(languages)}  # fmt: skip


# One legacy day where every nested count disagrees with the listed one: python has 30 engaged users
# in the languages[] list but 20 + 15 in the editors' cells (a user in both editors counts once);
# vscode has 25 in the editors[] list but 18 + 12 over its two models; 'go' is listed without a
# cell (no completion counters that day).
ENGAGED_DAY = {
    "date": "2026-03-10",
    "total_active_users": 60,
    "total_engaged_users": 45,
    "copilot_ide_code_completions": {
        "total_engaged_users": 40,
        "languages": [
            {"name": "python", "total_engaged_users": 30},
            {"name": "typescript", "total_engaged_users": 9},
            {"name": "go", "total_engaged_users": 2},
        ],
        "editors": [
            {
                "name": "vscode",
                "total_engaged_users": 25,
                "models": [
                    _model(
                        "default",
                        18,
                        _completion_cell("python", 15, 400),
                        _completion_cell("typescript", 9, 100),
                    ),
                    _model("custom-1", 12, _completion_cell("python", 5, 80)),
                ],
            },
            {
                "name": "JetBrains",
                "total_engaged_users": 15,
                "models": [
                    _model("default", 15, _completion_cell("python", 15, 300)),
                ],
            },
        ],
    },
    "copilot_ide_chat": {"total_engaged_users": 0},
    "copilot_dotcom_chat": {"total_engaged_users": 0},
    "copilot_dotcom_pull_requests": {"total_engaged_users": 0},
}


@pytest.mark.integration
def test_legacy_engaged_users_per_language_and_editor_come_from_their_lists(con, db, tmp_path):
    from copilot_warehouse.transform import dbt_runner

    archive = tmp_path / "engaged.json"
    archive.write_text(json.dumps([ENGAGED_DAY]), encoding="utf-8")
    legacy.import_legacy(con, archive, ORG, "legacy-engaged")
    legacy.import_legacy(con, ARCHIVE, ORG, "legacy-archive")
    con.close()
    result = dbt_runner.build(
        db, select="+fct_copilot_usage_by_dimension_daily", target_path=tmp_path / "target"
    )
    assert result.success, result.summary

    check = duckdb.connect(str(db), read_only=True)
    try:
        got = {
            (str(r[0]), r[1], r[2]): r[3:]
            for r in check.execute(
                "select day, dimension, dimension_value, engaged_users, code_generations, "
                "completion_loc_suggested_to_add, completion_loc_added, source_api "
                "from marts.fct_copilot_usage_by_dimension_daily order by all"
            ).fetchall()
        }
    finally:
        check.close()
    assert {k: v for k, v in got.items() if k[0] in ("2026-03-10", "2026-03-17")} == {
        # languages: engaged users from languages[], counters summed over editors and models
        ("2026-03-10", "language", "python"): (30, 780, 1560, 390, "legacy_metrics"),
        ("2026-03-10", "language", "typescript"): (9, 100, 200, 50, "legacy_metrics"),
        ("2026-03-10", "language", "go"): (2, 0, 0, 0, "legacy_metrics"),
        # editors: engaged users from editors[], never the sum over models (18 + 12)
        ("2026-03-10", "ide", "vscode"): (25, 580, 1160, 290, "legacy_metrics"),
        ("2026-03-10", "ide", "JetBrains"): (15, 300, 600, 150, "legacy_metrics"),
        # the documented archive (tests/data/legacy): one language and one editor a day
        ("2026-03-17", "language", "java"): (48, 2701, 6010, 1302, "legacy_metrics"),
        ("2026-03-17", "ide", "JetBrains"): (118, 2701, 6010, 1302, "legacy_metrics"),
    }
    assert got[("2026-03-18", "language", "java")][0] == 50
    assert got[("2026-03-18", "ide", "JetBrains")][0] == 120
