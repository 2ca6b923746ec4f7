"""The loader: landed partitions into raw tables, one transaction each, with a real DuckDB file.

Every test writes small NDJSON files into a landing zone under tmp_path and loads them into a
real DuckDB warehouse file; nothing is mocked except one injected failure in the rollback test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from copilot_warehouse import warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader

ORG = Scope("organization", "octo-demo")
ENT = Scope("enterprise", "octo-enterprise")
DAY = date(2026, 10, 5)
USERS = "users-1-day"


def user(user_id: object = 1, **fields: object) -> dict:
    record = {
        "day": DAY.isoformat(),
        "user_id": user_id,
        "user_login": f"user{user_id}",
        "code_generation_activity_count": 10,
        "code_acceptance_activity_count": 4,
        "loc_added_sum": 20,
    }
    record.update(fields)
    return record


def ndjson(*records: object) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    connection = warehouse.connect(tmp_path / "warehouse.duckdb", lock_timeout=5)
    yield connection
    connection.close()


def land(
    root: Path, files: dict[str, bytes], report: str = USERS, day: date = DAY, scope: Scope = ORG
) -> None:
    zone.write_partition(root, scope, report, day, 200, files)


def rows(con, sql: str, params: tuple = ()) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def quarantine(con) -> list[tuple]:
    return rows(con, "select _part, _line, reason, raw_line from raw.quarantine order by _part, _line")


# --- valid and invalid lines ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "line, reason",
    [
        pytest.param(b'{"day": "2026-10-05", "user_id": 7', "malformed JSON", id="truncated line"),
        pytest.param(b"not json at all", "malformed JSON", id="malformed line"),
        pytest.param(b"[1, 2]", "not a JSON object: a JSON array", id="array on one line"),
        pytest.param(b"42", "not a JSON object: a JSON ubigint", id="number"),
        pytest.param(b'"text"', "not a JSON object: a JSON varchar", id="string"),
        pytest.param(
            json.dumps({"day": "2026-10-05", "user_login": "x"}).encode(),
            "missing or non-integer user_id",
            id="missing user_id",
        ),
        pytest.param(
            json.dumps(user("abc")).encode(), "missing or non-integer user_id", id="non-integer user_id"
        ),
        pytest.param(json.dumps(user(None)).encode(), "missing or non-integer user_id", id="null user_id"),
        pytest.param(
            json.dumps(user(7, loc_added_sum=-5)).encode(),
            "counter loc_added_sum is negative: -5",
            id="negative counter",
        ),
        pytest.param(
            json.dumps(user(7, code_generation_activity_count="many")).encode(),
            'counter code_generation_activity_count is not a number: "many"',
            id="non-numeric counter",
        ),
        pytest.param(
            json.dumps(user(7, code_acceptance_activity_count=-0.5)).encode(),
            "counter code_acceptance_activity_count is negative: -0.5",
            id="negative fractional counter",
        ),
        pytest.param(
            json.dumps(user(7, day="2026-10-04")).encode(),
            "record is for day 2026-10-04, not the report day 2026-10-05",
            id="record for another day",
        ),
    ],
)
def test_a_bad_line_is_quarantined_with_its_reason_and_the_rest_loads(con, root, line, reason):
    land(root, {"part-0001.ndjson": ndjson(user(1), line, user(2))})

    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")

    assert (result.records, result.quarantined, result.duplicates, result.parts) == (2, 1, 0, 1)
    assert rows(con, "select user_id, _line from raw.copilot_usage_users order by user_id") == [
        (1, 1),
        (2, 3),
    ]
    [(part, line_no, got_reason, raw_line)] = quarantine(con)
    assert (part, line_no) == ("organization/octo-demo/users-1-day/2026-10-05/part-0001.ndjson", 2)
    assert got_reason.startswith(reason)
    assert raw_line == line.decode()


# Raw record texts around the edges of the loader's quick test for a valid line (string tests on
# the values json_extract writes back): each must get the same outcome as the full checks.
_EDGE = '{"day": %s, "user_id": %s, "loc_added_sum": %s, "code_generation_activity_count": 2}'


@pytest.mark.parametrize(
    "text, reason",
    [
        pytest.param(_EDGE % ('"2026-10-05"', "7", "0"), None, id="zero"),
        pytest.param(_EDGE % ('"2026-10-05"', "7", "-0"), None, id="minus zero"),
        pytest.param(_EDGE % ('"2026-10-05"', "7", "-0.0"), None, id="minus zero point zero"),
        pytest.param(_EDGE % ('"2026-10-05"', "7", "1E3"), None, id="exponent"),
        pytest.param(_EDGE % ('"2026-10-05"', "7", "1e999"), None, id="huge"),
        pytest.param(_EDGE % ('"2026-10-05"', "7", "null"), None, id="null counter"),
        pytest.param(_EDGE % ('"2026-10-05"', '"7"', "1"), None, id="user_id as a string"),
        pytest.param(_EDGE % ("null", "7", "1"), None, id="null day"),
        pytest.param(_EDGE % ('"2026\\u002d10-05"', "7", "1"), None, id="escaped day"),
        pytest.param('{"user_id": 7, "loc_added_sum": 1}', None, id="no day"),
        pytest.param(' \t{"day": "2026-10-05", "user_id": 7}', None, id="leading whitespace"),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7", '"5"'), 'counter loc_added_sum is not a number: "5"', id="string"
        ),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7", '"1,2"'),
            'counter loc_added_sum is not a number: "1,2"',
            id="string with a comma",
        ),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7", "true"), "counter loc_added_sum is not a number: true", id="bool"
        ),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7", "[1,2]"), "counter loc_added_sum is not a number: [1,2]", id="list"
        ),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7", '{"n":1}'),
            'counter loc_added_sum is not a number: {"n":1}',
            id="object",
        ),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7", "-1e-9"),
            "counter loc_added_sum is negative: -1e-9",
            id="tiny negative",
        ),
        pytest.param(
            _EDGE % ('"2026-10-05"', "7.5", "1"), None, id="fractional user_id (cast as DuckDB casts it)"
        ),
        pytest.param(
            _EDGE % ('"2026-10-05 "', "7", "1"),
            "record is for day 2026-10-05 , not the report day 2026-10-05",
            id="day with a space",
        ),
        pytest.param(
            _EDGE % ("20261005", "7", "1"),
            "record is for day 20261005, not the report day 2026-10-05",
            id="day as a number",
        ),
    ],
)
def test_edge_values_get_the_same_outcome_as_the_full_checks(con, root, text, reason):
    land(root, {"part-0001.ndjson": ndjson(user(1), text.encode())})

    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")

    got = quarantine(con)
    if reason is None:
        assert (result.records, result.quarantined, got) == (2, 0, [])
    else:
        assert (result.records, result.quarantined) == (1, 1)
        assert got[0][1:] == (2, reason, text)


def test_valid_records_land_untouched_with_keys_and_load_metadata(con, root):
    first = json.dumps(
        user(1001, totals_by_ide=[{"ide": "vscode", "loc_added_sum": 3}]), separators=(",", ":")
    )
    land(root, {"part-0001.ndjson": first.encode() + b"\n" + ndjson(user("1002"))})

    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")

    got = rows(
        con,
        "select scope_type, scope_name, report, day, user_id, record::varchar, _part, _line, _load_id, "
        "_source from raw.copilot_usage_users order by user_id",
    )
    part = "organization/octo-demo/users-1-day/2026-10-05/part-0001.ndjson"
    assert got[0] == (
        "organization",
        "octo-demo",
        USERS,
        DAY,
        1001,
        first,
        part,
        1,
        "load-1",
        "usage_metrics",
    )
    assert got[1][4] == 1002, "an integer written as a string is accepted as the key"
    [(status, records, parts, message)] = rows(
        con, "select status, records, parts, message from raw.ingest_log"
    )
    assert (status, records, parts, message) == ("loaded", 2, 1, None)


def test_blank_lines_and_a_missing_final_newline_are_fine(con, root):
    data = b"\n" + ndjson(user(1)) + b"   \r\n\n" + json.dumps(user(2)).encode()
    land(root, {"part-0001.ndjson": data})
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined) == (2, 0)
    assert rows(con, "select _line from raw.copilot_usage_users order by _line") == [(2,), (5,)]


def test_crlf_line_endings_load(con, root):
    land(root, {"part-0001.ndjson": ndjson(user(1), user(2)).replace(b"\n", b"\r\n")})
    assert loader.load_partition(con, ORG, USERS, DAY, root, "load-1").records == 2


def test_a_json_array_file_is_expanded_element_by_element(con, root):
    array = json.dumps([user(1), user(2), "not an object", user(3)], indent=2).encode()
    land(root, {"part-0001.ndjson": array})

    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")

    assert (result.records, result.quarantined) == (3, 1)
    assert rows(con, "select user_id, _line from raw.copilot_usage_users order by user_id") == [
        (1, 1),
        (2, 2),
        (3, 4),
    ]
    assert quarantine(con)[0][1:3] == (3, "not a JSON object: a JSON varchar")


def test_a_malformed_json_array_file_is_quarantined_whole_and_other_parts_load(con, root):
    land(root, {"part-0001.ndjson": b'[{"user_id": 1}, {"user_id": x}]', "part-0002.ndjson": ndjson(user(2))})
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined, result.parts) == (1, 1, 2)
    [(part, line_no, reason, raw_line)] = quarantine(con)
    assert part.endswith("part-0001.ndjson") and line_no is None
    assert reason == "malformed JSON array file: record 2 at line 1 column 30: Expecting value"
    assert raw_line == '[{"user_id": 1}, {"user_id": x}]'


def test_a_json_array_cut_short_loads_its_whole_records_and_quarantines_the_cut_one(con, root):
    land(root, {"part-0001.ndjson": b'[{"user_id": 1}, {"user_id": ', "part-0002.ndjson": ndjson(user(2))})
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined, result.parts) == (2, 1, 2)
    assert rows(con, "select user_id, _part[-16:], _line from raw.copilot_usage_users order by 1") == [
        (1, "part-0001.ndjson", 1),
        (2, "part-0002.ndjson", 1),
    ]
    assert quarantine(con)[0][1:] == (
        2,
        "malformed JSON: the part ends mid-record (record 2, from line 1 of the file, is cut short)",
        '{"user_id": ',
    )


def test_records_repeated_across_parts_count_once_keeping_the_first(con, root):
    land(
        root,
        {
            "part-0001.ndjson": ndjson(user(1, loc_added_sum=1), user(2)),
            "part-0002.ndjson": ndjson(user(2), user(1, loc_added_sum=99), user(3)),
        },
    )
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.duplicates, result.parts) == (3, 2, 2)
    assert rows(
        con, "select user_id, record->>'$.loc_added_sum', _part[-16:] from raw.copilot_usage_users order by 1"
    ) == [(1, "1", "part-0001.ndjson"), (2, "20", "part-0001.ndjson"), (3, "20", "part-0002.ndjson")]
    assert rows(con, "select records, duplicates from raw.ingest_log") == [(3, 2)]


def test_unknown_fields_land_untouched_and_are_recorded_in_schema_keys(con, root):
    land(root, {"part-0001.ndjson": ndjson(user(1))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    later = date(2026, 10, 6)
    land(root, {"part-0001.ndjson": ndjson(user(1, day="2026-10-06", brand_new_metric={"x": 1}))}, day=later)
    loader.load_partition(con, ORG, USERS, later, root, "load-2")

    keys = dict(
        ((k, (first, last, load_id)))
        for k, first, last, load_id in rows(
            con, "select key, first_day, last_day, first_load_id from raw.schema_keys"
        )
    )
    assert keys["brand_new_metric"] == (later, later, "load-2")
    assert keys["user_id"] == (DAY, later, "load-1")
    assert rows(
        con, "select record->'$.brand_new_metric' from raw.copilot_usage_users where day = ?", (later,)
    ) == [('{"x":1}',)]


def test_schema_keys_follow_days_loaded_in_any_order(con, root):
    later, earliest = date(2026, 10, 7), date(2026, 10, 3)
    land(root, {"part-0001.ndjson": ndjson(user(1, day="2026-10-07", extra=1))}, day=later)
    loader.load_partition(con, ORG, USERS, later, root, "load-1")
    land(root, {"part-0001.ndjson": ndjson(user(1), user(2, only_here=True))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-2")
    land(root, {"part-0001.ndjson": ndjson(user(1, day="2026-10-03"))}, day=earliest)
    loader.load_partition(con, ORG, USERS, earliest, root, "load-3")
    keys = {
        k: rest
        for k, *rest in rows(con, "select key, first_day, last_day, first_load_id from raw.schema_keys")
    }
    assert keys["user_id"] == [earliest, later, "load-3"]  # moved back, last day kept
    assert keys["extra"] == [later, later, "load-1"]  # absent from the other days
    assert keys["only_here"] == [DAY, DAY, "load-2"]
    land(root, {"part-0001.ndjson": ndjson(user(1, day="2026-10-08"))}, day=date(2026, 10, 8))
    loader.load_partition(con, ORG, USERS, date(2026, 10, 8), root, "load-4")
    last = dict(rows(con, "select key, last_day from raw.schema_keys"))
    assert (last["user_id"], last["extra"], last["only_here"]) == (date(2026, 10, 8), later, DAY)


def test_missing_optional_fields_are_fine(con, root):
    land(root, {"part-0001.ndjson": ndjson({"user_id": 5})})
    assert loader.load_partition(con, ORG, USERS, DAY, root, "load-1").records == 1


def test_a_10_mb_line_loads(con, root):
    big = user(1, totals_by_language_model=[{"language": "x" * 1000, "model": "m"}] * 10_500)
    line = json.dumps(big).encode()
    assert len(line) > 10 * 1024 * 1024
    land(root, {"part-0001.ndjson": ndjson(user(0)) + line + b"\n" + ndjson(user(2))})
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined) == (3, 0)
    assert rows(con, "select length(record::varchar) from raw.copilot_usage_users where user_id = 1") == [
        (len(line),)
    ]


def test_a_line_longer_than_the_limit_fails_the_partition_loudly_and_keeps_what_was_loaded(
    con, root, monkeypatch
):
    land(root, {"part-0001.ndjson": ndjson(user(1))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    monkeypatch.setattr(loader, "MAX_LINE_BYTES", 1 << 20)
    land(root, {"part-0001.ndjson": ndjson(user(2, padding="x" * (2 << 20)))})
    with pytest.raises(loader.LoadError, match="2026-10-05: .*a line is longer than 1,048,576 bytes") as info:
        loader.load_partition(con, ORG, USERS, DAY, root, "load-2")
    assert len(str(info.value)) < 500, "the error does not quote the data"
    assert rows(con, "select user_id, _load_id from raw.copilot_usage_users") == [(1, "load-1")]


def test_lines_that_are_not_utf8_are_quarantined_and_the_rest_loads(con, root):
    land(
        root,
        {
            "part-0001.ndjson": ndjson(user(1))
            + b'{"user_id": 2, "user_login": "\xff\xfe"}\n'
            + ndjson(user(3))
        },
    )
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined) == (2, 1)
    assert quarantine(con)[0][1:3] == (2, "line is not valid UTF-8")
    assert rows(con, "select user_id, _line from raw.copilot_usage_users order by 1") == [(1, 1), (3, 3)]


def test_a_line_holding_a_nul_byte_is_quarantined_not_cut_short(con, root):
    land(root, {"part-0001.ndjson": ndjson(user(1)) + b'{"user_id": 2}\x00{"hidden": 1}\n' + ndjson(user(3))})
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined) == (2, 1)
    assert quarantine(con)[0][1:] == (2, "line holds a NUL byte", '{"user_id": 2}\\u0000{"hidden": 1}')
    assert rows(con, "select user_id from raw.copilot_usage_users order by 1") == [(1,), (3,)]


# --- keys per report -----------------------------------------------------------------------------
def test_repo_key_is_the_first_usable_candidate(con, root):
    records = [
        {"day": "2026-10-05", "repository_id": None, "repo_id": 7.5, "repository": {"id": 42}, "name": "x"},
        {"day": "2026-10-05", "repository_id": {"a": 1}, "repository_full_name": "octo/api", "id": 9},
        {"day": "2026-10-05", "repository_name": "", "name": "octo/other"},
        {"day": "2026-10-05", "repository_id": 1.5, "name": ["x"]},
    ]
    land(root, {"part-0001.ndjson": ndjson(*records)}, report="repos-1-day")
    result = loader.load_partition(con, ORG, "repos-1-day", DAY, root, "load-1")
    assert rows(con, "select repo_key, _line from raw.copilot_repos order by _line") == [("42", 1), ("9", 2)]
    assert (result.records, result.quarantined) == (2, 2)
    assert [(line, reason) for _, line, reason, _ in quarantine(con)] == [
        (3, "missing repository id or name"),  # an empty name is not a key
        (4, "missing repository id or name"),
    ]


@pytest.mark.parametrize(
    "report, scope, records, query, expected",
    [
        pytest.param(
            "user-teams-1-day",
            ORG,
            [
                {"day": "2026-10-05", "user_id": 1, "team_id": 10, "slug": "a"},
                {"day": "2026-10-05", "user_id": 1, "team_id": 11, "slug": "b"},
                {"day": "2026-10-05", "user_id": 1, "team_id": 10, "slug": "a"},
            ],
            "select user_id, team_id from raw.copilot_user_teams order by 2",
            [(1, 10), (1, 11)],
            id="user-teams keyed on user and team",
        ),
        pytest.param(
            "repos-1-day",
            ORG,
            [
                {"day": "2026-10-05", "repository_id": 123},
                {"day": "2026-10-05", "repository_name": "octo/web"},
            ],
            "select repo_key from raw.copilot_repos order by 1",
            [("123",), ("octo/web",)],
            id="repos keyed on id or name",
        ),
        pytest.param(
            "enterprise-1-day",
            ENT,
            [{"day": "2026-10-05", "daily_active_users": 30}],
            "select report, record->>'$.daily_active_users' from raw.copilot_usage_aggregate",
            [("enterprise-1-day", "30")],
            id="enterprise aggregate",
        ),
        pytest.param(
            "users-28-day",
            ORG,
            [
                {
                    "report_start_day": "2026-09-08",
                    "report_end_day": "2026-10-05",
                    "day": "2026-10-04",
                    "user_id": 1,
                },
                {
                    "report_start_day": "2026-09-08",
                    "report_end_day": "2026-10-05",
                    "day": "2026-10-05",
                    "user_id": 1,
                },
            ],
            "select report_start_day::varchar, report_end_day::varchar, line_key "
            "from raw.copilot_reports_28_day order by line_key",
            [("2026-09-08", "2026-10-05", "1|2026-10-04"), ("2026-09-08", "2026-10-05", "1|2026-10-05")],
            id="users-28-day keyed on user and day",
        ),
        pytest.param(
            "organization-28-day",
            ORG,
            [
                {
                    "report_start_day": "2026-09-08",
                    "report_end_day": "2026-10-05",
                    "day_totals": [{"day": "2026-10-05"}],
                }
            ],
            "select report_end_day::varchar, line_key, day::varchar from raw.copilot_reports_28_day",
            [("2026-10-05", "totals", "2026-10-05")],
            id="organization-28-day is one totals line",
        ),
    ],
)
def test_key_columns_per_report(con, root, report, scope, records, query, expected):
    land(root, {"part-0001.ndjson": ndjson(*records)}, report=report, scope=scope)
    loader.load_partition(con, scope, report, DAY, root, "load-1")
    assert rows(con, query) == expected


def test_an_unknown_report_is_refused_with_a_clear_error(con, root):
    with pytest.raises(loader.LoadError, match="unknown report 'users-7-day'"):
        loader.load_partition(con, ORG, "users-7-day", DAY, root, "load-1")


def test_a_partition_that_was_never_landed_is_named_in_the_error(con, root):
    with pytest.raises(loader.LoadError, match="organization:octo-demo users-1-day 2026-10-05: not landed"):
        loader.load_partition(con, ORG, USERS, DAY, root, "load-1")


# --- idempotency, replacement, rollback ----------------------------------------------------------
def _snapshot(con) -> dict[str, list[tuple]]:
    return {
        "users": rows(
            con, "select * exclude (_load_id, _loaded_at) from raw.copilot_usage_users order by all"
        ),
        "quarantine": rows(
            con, "select * exclude (load_id, quarantined_at) from raw.quarantine order by all"
        ),
        "schema_keys": rows(con, "select report, key, first_day, last_day from raw.schema_keys order by all"),
    }


def test_loading_twice_gives_the_same_rows(con, root):
    land(root, {"part-0001.ndjson": ndjson(user(1), b"{oops", user(2)), "part-0002.ndjson": ndjson(user(2))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    first = _snapshot(con)
    loader.load_partition(con, ORG, USERS, DAY, root, "load-2")
    assert _snapshot(con) == first
    assert rows(con, "select distinct _load_id from raw.copilot_usage_users") == [("load-2",)]
    assert rows(con, "select load_id, status from raw.ingest_log order by load_id") == [
        ("load-1", "loaded"),
        ("load-2", "loaded"),
    ]


def test_a_new_landing_replaces_the_partition_and_leaves_other_days_alone(con, root):
    other_day = date(2026, 10, 6)
    land(root, {"part-0001.ndjson": ndjson(user(1), user(2))})
    land(root, {"part-0001.ndjson": ndjson(user(9, day="2026-10-06"))}, day=other_day)
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    loader.load_partition(con, ORG, USERS, other_day, root, "load-1")
    land(root, {"part-0001.ndjson": ndjson(user(3))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-2")
    assert rows(con, "select day, user_id from raw.copilot_usage_users order by all") == [
        (DAY, 3),
        (other_day, 9),
    ]


def test_an_error_mid_load_rolls_back_and_keeps_the_previous_partition(con, root, monkeypatch):
    land(root, {"part-0001.ndjson": ndjson(user(1), b"{bad", user(2))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    before = _snapshot(con)
    log_before = rows(con, "select * from raw.ingest_log")

    land(root, {"part-0001.ndjson": ndjson(user(3), user(4, brand_new=1))})

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "_update_schema_keys", fail)  # after the delete and the inserts
    with pytest.raises(loader.LoadError, match="organization:octo-demo users-1-day 2026-10-05: .*disk full"):
        loader.load_partition(con, ORG, USERS, DAY, root, "load-2")

    assert _snapshot(con) == before
    assert rows(con, "select * from raw.ingest_log") == log_before
    monkeypatch.undo()
    assert loader.load_partition(con, ORG, USERS, DAY, root, "load-3").records == 2, (
        "the connection is usable"
    )


def test_a_204_manifest_logs_no_report_and_keeps_loaded_rows(con, root):
    land(root, {"part-0001.ndjson": ndjson(user(1))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    zone.write_partition(root, ORG, USERS, DAY, 204)
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-2")
    assert result.status == "no_report"
    assert rows(con, "select count(*) from raw.copilot_usage_users") == [(1,)]
    assert rows(con, "select status, http_status from raw.ingest_log where load_id = 'load-2'") == [
        ("no_report", 204)
    ]


def test_record_status_logs_failures_with_a_redacted_message(con):
    loader.record_status(
        con,
        ORG,
        USERS,
        DAY,
        "failed",
        403,
        "download https://example.test/x?expires=1&signature=SECRETSIG failed",
        "load-1",
        retries=2,
    )
    [(status, http_status, retries, message)] = rows(
        con, "select status, http_status, retries, message from raw.ingest_log"
    )
    assert (status, http_status, retries) == ("failed", 403, 2)
    assert "SECRETSIG" not in message and "https://example.test/x" in message
    with pytest.raises(ValueError, match="unknown ingest status"):
        loader.record_status(con, ORG, USERS, DAY, "weird", None, None, "load-1")


@pytest.mark.parametrize(
    "limit_before, cap, during",
    [
        pytest.param(None, "300MB", "286.1 MiB", id="capped while loading"),
        pytest.param("200MB", "300MB", "190.7 MiB", id="a lower limit of the caller is kept"),
        pytest.param(None, "", None, id="no cap when the setting is empty"),
    ],
)
def test_memory_is_capped_while_loading_and_restored_after(con, root, monkeypatch, limit_before, cap, during):
    if limit_before:
        con.execute(f"set memory_limit = '{limit_before}'")
    before = rows(con, "select current_setting('memory_limit')")[0][0]
    monkeypatch.setenv(loader.ENV_MEMORY_LIMIT, cap)
    monkeypatch.setattr(loader, "CAP_FROM_BYTES", 0)  # this partition is small
    seen = []
    real = loader._write

    def spy(con, *args):
        seen.append(rows(con, "select current_setting('memory_limit')")[0][0])
        return real(con, *args)

    monkeypatch.setattr(loader, "_write", spy)
    land(root, {"part-0001.ndjson": ndjson(user(1))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert seen == [during or before]
    assert rows(con, "select current_setting('memory_limit')")[0][0] == before


def test_memory_cap_counts_what_a_compressed_partition_decompresses_to(con, root, monkeypatch):
    # A 360 MB day lands as ~13 MB of zstd: the cap must still apply, so the threshold is
    # compared with the NDJSON bytes, not the stored ones.
    monkeypatch.setenv("COPILOT_LANDING_COMPRESSION", "zstd")
    monkeypatch.setenv(loader.ENV_MEMORY_LIMIT, "300MB")
    body = ndjson(*(user(i) for i in range(1, 2001)))
    with zone.partition_writer(root, ORG, USERS, DAY) as writer:  # as a download lands
        writer.part_path(1).write_bytes(body)
        [part] = writer.commit(200)["parts"]
    assert part["bytes"] < len(body) // 4 and part["uncompressed_bytes"] == len(body)
    monkeypatch.setattr(loader, "CAP_FROM_BYTES", len(body) // 2)  # between stored and NDJSON bytes
    seen = []
    real = loader._write

    def spy(con, *args):
        seen.append(rows(con, "select current_setting('memory_limit')")[0][0])
        return real(con, *args)

    monkeypatch.setattr(loader, "_write", spy)
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert seen == ["286.1 MiB"]


@pytest.mark.parametrize(
    "before, during",
    [
        pytest.param(None, "244.1 MiB", id="raised while loading"),
        pytest.param("100MB", "244.1 MiB", id="a lower setting is raised too"),
        pytest.param("1GB", "953.6 MiB", id="a higher setting of the caller is kept"),
    ],
)
def test_bulk_load_checkpoints_less_often_caps_memory_and_restores_the_settings(
    con, root, monkeypatch, before, during
):
    monkeypatch.delenv(loader.ENV_MEMORY_LIMIT, raising=False)
    if before:
        con.execute(f"set checkpoint_threshold = '{before}'")
    shown = rows(con, "select current_setting('checkpoint_threshold')")[0][0]
    memory = rows(con, "select current_setting('memory_limit')")[0][0]
    land(root, {"part-0001.ndjson": ndjson(user(1))})
    with loader.bulk_load(con):
        assert rows(con, "select current_setting('checkpoint_threshold')")[0][0] == during
        assert rows(con, "select current_setting('memory_limit')")[0][0] == "953.6 MiB"  # 1GB cap
        loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert rows(con, "select current_setting('checkpoint_threshold')")[0][0] == shown
    assert rows(con, "select current_setting('memory_limit')")[0][0] == memory
    with pytest.raises(RuntimeError, match="stop"), loader.bulk_load(con):
        raise RuntimeError("stop")
    assert rows(con, "select current_setting('checkpoint_threshold')")[0][0] == shown
    assert rows(con, "select current_setting('memory_limit')")[0][0] == memory


# --- seats and billing ---------------------------------------------------------------------------
SEATS = [
    {"assignee": {"id": 1, "login": "a"}, "plan_type": "business", "created_at": "2026-01-01T00:00:00Z"},
    {"assignee": None, "assigning_team": {"id": 5}, "created_at": "2026-01-02T00:00:00Z"},
]


def test_load_snapshot_replaces_that_snapshot_day(con):
    loader.load_snapshot(con, ORG, DAY, {"seat_breakdown": {"total": 3}}, SEATS + SEATS[:1], "load-1")
    counts = loader.load_snapshot(con, ORG, DAY, {"seat_breakdown": {"total": 2}}, SEATS, "load-2")
    assert counts == {"billing": 1, "seats": 2}
    assert rows(con, "select user_id, _source from raw.copilot_seats order by user_id nulls last") == [
        (1, "seats_api"),
        (None, "seats_api"),
    ]
    assert rows(con, "select record->>'$.seat_breakdown.total', _load_id from raw.copilot_billing") == [
        ("2", "load-2")
    ]


def test_load_snapshot_partition_reads_the_landed_files(con, root):
    zone.write_partition(
        root,
        ORG,
        loader.SNAPSHOT_REPORT,
        DAY,
        200,
        {
            loader.BILLING_FILE: json.dumps({"plan_type": "business"}).encode(),
            loader.SEATS_FILE: ndjson(*SEATS),
        },
    )
    assert loader.load_snapshot_partition(con, ORG, DAY, root, "load-1") == {"billing": 1, "seats": 2}
    assert rows(con, "select count(*) from raw.copilot_seats where snapshot_day = ?", (DAY,)) == [(2,)]


# --- the warehouse lock --------------------------------------------------------------------------
def test_a_locked_warehouse_raises_after_the_bounded_wait_and_nothing_is_corrupted(tmp_path, root):
    path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(path)
    land(root, {"part-0001.ndjson": ndjson(user(1), user(2))})
    loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    con.close()

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(warehouse.WarehouseLockedError, match="locked by another process"):
            warehouse.connect(path, lock_timeout=1.0, poll_interval=0.2)
        assert 1.0 <= time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()

    con = warehouse.connect(path, lock_timeout=5)
    try:
        assert rows(con, "select user_id from raw.copilot_usage_users order by 1") == [(1,), (2,)]
    finally:
        con.close()


def test_a_partition_on_remote_storage_loads_from_a_verified_download(con):
    """An fsspec URL root (memory:// standing in for s3://): parts are downloaded, then loaded."""
    import fsspec

    root = "memory://copilot-loader-test"
    try:
        land(root, {"part-0001.ndjson": ndjson(user(1)), "part-0002.ndjson": ndjson(user(2), user(1))})
        result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
        assert (result.records, result.duplicates, result.parts) == (2, 1, 2)
        assert rows(con, "select user_id, _part from raw.copilot_usage_users order by 1") == [
            (1, "organization/octo-demo/users-1-day/2026-10-05/part-0001.ndjson"),
            (2, "organization/octo-demo/users-1-day/2026-10-05/part-0002.ndjson"),
        ]
    finally:
        fsspec.filesystem("memory").rm("/copilot-loader-test", recursive=True)
