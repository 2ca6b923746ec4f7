"""Every shape a downloaded report file may take loads into raw whole, with its keys and positions.

GitHub documents the report files as NDJSON in one or more parts, yet a file may also arrive as a
JSON array, pretty-printed, with a byte-order mark or CRLF line endings, gzip-compressed without
the name saying so, as the 28-day aggregate wrapper object, or cut short by a broken download.
Each test lands a partition with the landing module's writer, loads it with
``loader.load_partition`` into a real DuckDB file and reads the raw tables back: every record is
there, unchanged, at its part and position (the line number of an NDJSON part; the record's
position in a JSON array or a multi-line JSON document), and what cannot load is quarantined
with a reason, never dropped.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from copilot_warehouse import warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader

ORG = Scope("organization", "octo-demo")
DAY = date(2026, 10, 5)
START = DAY - timedelta(days=27)
PART_DIR = "organization/octo-demo/{report}/2026-10-05/"
BOM = b"\xef\xbb\xbf"
WEB_UI = {"etl_id": "etl-20261006-0001", "day_partition": "2026-10-05", "entity_id_partition": "999"}


# --- records as GitHub documents them ----------------------------------------------------------
def _counters(n: int) -> dict:
    return {
        "user_initiated_interaction_count": 5 * n,
        "code_generation_activity_count": 4 * n,
        "code_acceptance_activity_count": n,
        "loc_suggested_to_add_sum": 20 * n,
        "loc_suggested_to_delete_sum": 0,
        "loc_added_sum": 9 * n,
        "loc_deleted_sum": 2 * n,
    }


def user_day(user_id: int, day: date = DAY, **extra: object) -> dict:
    return {
        "day": day.isoformat(),
        "user_id": user_id,
        "user_login": f"dev-{user_id}",
        "organization_id": "999",
        "enterprise_id": "13213",
        **_counters(user_id % 7 + 1),
        "used_chat": True,
        "used_agent": user_id % 2 == 0,
        "ai_credits_used": 1.25,
        "totals_by_ide": [
            {
                "ide": "vscode",
                **_counters(1),
                "last_known_ide_version": {"ide_version": "1.107.1", "sampled_at": "2026-10-05T16:02:11Z"},
            }
        ],
        "totals_by_feature": [{"feature": "code_completion", **_counters(1)}],
        "note": 'naïve café ✓ line\nbreak "quoted" {not: json} [x]',
        **extra,
    }


def aggregate_day(day: date = DAY, **extra: object) -> dict:
    return {
        "day": day.isoformat(),
        "organization_id": "999",
        "daily_active_users": 42,
        "weekly_active_users": 61,
        "monthly_active_users": 77,
        **_counters(10),
        "totals_by_ide": [{"ide": "jetbrains", **_counters(2)}],
        "totals_by_cli": {"session_count": 9, "token_usage": {"output_tokens_sum": 52000}},
        "pull_requests": {"total_created": 37, "median_minutes_to_merge": 212.5},
        **extra,
    }


def wrapper_28_day(**extra: object) -> dict:
    return {
        "report_start_day": START.isoformat(),
        "report_end_day": DAY.isoformat(),
        "organization_id": "999",
        "created_at": "2026-10-06T03:12:45Z",
        "day_totals": [aggregate_day(START + timedelta(days=i)) for i in range(28)],
        **extra,
    }


def users_28_day_line(user_id: int, day: date, **extra: object) -> dict:
    window = {"report_start_day": START.isoformat(), "report_end_day": DAY.isoformat()}
    return user_day(user_id, day, **window, **extra)


# Per report: the records of one partition, and the key columns each record must land with.
REPORTS: dict[str, tuple[Callable[..., list[dict]], str, Callable[[dict], tuple]]] = {
    "users-1-day": (
        lambda **x: [user_day(1001, **x), user_day(1002, **x), user_day(1003, **x)],
        "user_id",
        lambda r: (r["user_id"],),
    ),
    "organization-1-day": (lambda **x: [aggregate_day(**x)], "report", lambda r: ("organization-1-day",)),
    "organization-28-day": (
        lambda **x: [wrapper_28_day(**x)],
        "line_key, report_start_day, report_end_day",
        lambda r: ("totals", START, DAY),
    ),
    "users-28-day": (
        lambda **x: [
            users_28_day_line(7, DAY - timedelta(days=1), **x),
            users_28_day_line(7, DAY, **x),
            users_28_day_line(8, DAY, **x),
        ],
        "line_key, report_start_day, report_end_day",
        lambda r: (f"{r['user_id']}|{r['day']}", START, DAY),
    ),
}


# --- file shapes -------------------------------------------------------------------------------
# A shape turns the records into the partition's files, and says where each record must land:
# (file name, line number or position in the file) in record order.
Shape = Callable[[list[dict]], tuple[dict[str, bytes], list[tuple[str, int]]]]
P1 = "part-0001.ndjson"


def _line(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _ndjson(records: list[dict], newline: bytes = b"\n", final: bool = True) -> bytes:
    body = newline.join(_line(r) for r in records)
    return body + newline if final and records else body


def _each(name: str, records: list[dict], first: int = 1, step: int = 1) -> list[tuple[str, int]]:
    return [(name, first + step * i) for i in range(len(records))]


def _blank_lines(records: list[dict]) -> bytes:
    # line 1 empty, then record / blank line pairs; a whitespace-only line and CRLF blank at the end
    return b"\n" + b"".join(_line(r) + b"\n  \t\n" for r in records) + b"\r\n"


SHAPES: dict[str, Shape] = {
    "ndjson LF": lambda rs: ({P1: _ndjson(rs)}, _each(P1, rs)),
    "ndjson CRLF": lambda rs: ({P1: _ndjson(rs, b"\r\n")}, _each(P1, rs)),
    "ndjson without a final newline": lambda rs: ({P1: _ndjson(rs, final=False)}, _each(P1, rs)),
    "ndjson CRLF without a final newline": lambda rs: (
        {P1: _ndjson(rs, b"\r\n", final=False)},
        _each(P1, rs),
    ),
    "ndjson with blank lines": lambda rs: ({P1: _blank_lines(rs)}, _each(P1, rs, first=2, step=2)),
    "byte-order mark, ndjson": lambda rs: ({P1: BOM + _ndjson(rs)}, _each(P1, rs)),
    "byte-order mark, CRLF": lambda rs: ({P1: BOM + _ndjson(rs, b"\r\n")}, _each(P1, rs)),
    "byte-order mark, pretty object": lambda rs: (
        {P1: BOM + b"\n".join(json.dumps(r, indent=2).encode() for r in rs)},
        _each(P1, rs),
    ),
    "byte-order mark, pretty array": lambda rs: (
        {P1: BOM + json.dumps(rs, indent=2).encode()},
        _each(P1, rs),
    ),
    "json array on one line": lambda rs: ({P1: json.dumps(rs).encode() + b"\n"}, _each(P1, rs)),
    "json array pretty-printed": lambda rs: ({P1: json.dumps(rs, indent=2).encode()}, _each(P1, rs)),
    "json array pretty-printed with CRLF": lambda rs: (
        {P1: json.dumps(rs, indent=4).replace("\n", "\r\n").encode() + b"\r\n"},
        _each(P1, rs),
    ),
    "pretty-printed object(s)": lambda rs: (
        {P1: b"\n".join(json.dumps(r, indent=2).encode() for r in rs) + b"\n"},
        _each(P1, rs),
    ),
    "pretty-printed object(s) after blank lines, tab indent": lambda rs: (
        {P1: b"\n\n" + b"".join(json.dumps(r, indent="\t").encode() + b"\n\n" for r in rs)},
        _each(P1, rs),
    ),
    "gzip ndjson named .ndjson": lambda rs: ({P1: gzip.compress(_ndjson(rs))}, _each(P1, rs)),
    "gzip ndjson named .ndjson.gz": lambda rs: (
        {"part-0001.ndjson.gz": gzip.compress(_ndjson(rs))},
        _each("part-0001.ndjson.gz", rs),
    ),
    "plain ndjson named .gz": lambda rs: ({"part-0001.json.gz": _ndjson(rs)}, _each("part-0001.json.gz", rs)),
    "gzip pretty array": lambda rs: ({P1: gzip.compress(json.dumps(rs, indent=2).encode())}, _each(P1, rs)),
    "gzip pretty object(s) with byte-order mark": lambda rs: (
        {P1: gzip.compress(BOM + b"\n".join(json.dumps(r, indent=2).encode() for r in rs))},
        _each(P1, rs),
    ),
    "gzip in two members": lambda rs: (
        {P1: gzip.compress(_ndjson(rs[:1])) + gzip.compress(_ndjson(rs[1:]))},
        _each(P1, rs),
    ),
    "empty part beside a non-empty part": lambda rs: (
        {P1: b"", "part-0002.ndjson": _ndjson(rs), "part-0003.ndjson": b""},
        _each("part-0002.ndjson", rs),
    ),
    "whitespace-only part beside a pretty array": lambda rs: (
        {P1: b"\n \r\n", "part-0002.ndjson": json.dumps(rs, indent=2).encode()},
        _each("part-0002.ndjson", rs),
    ),
    "one record per part, each part another shape": lambda rs: (
        {
            f"part-{i:04d}.ndjson": [
                lambda r: _ndjson([r]),
                lambda r: json.dumps([r], indent=2).encode(),
                lambda r: gzip.compress(json.dumps(r, indent=2).encode()),
            ][(i - 1) % 3](r)
            for i, r in enumerate(rs, start=1)
        },
        [(f"part-{i:04d}.ndjson", 1) for i in range(1, len(rs) + 1)],
    ),
}


# --- helpers -----------------------------------------------------------------------------------
@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    connection = warehouse.connect(tmp_path / "w.duckdb", lock_timeout=5)
    yield connection
    connection.close()


def land(root: Path, report: str, files: dict[str, bytes]) -> None:
    zone.write_partition(root, ORG, report, DAY, 200, files)


def loaded(con, report: str) -> list[tuple]:
    """(file name, position, keys, record) of the partition's raw rows, in part and line order."""
    table, _ = warehouse.REPORT_TABLES[report]
    key_columns = REPORTS[report][1]
    rows = con.execute(
        f"select _part, _line, {key_columns}, record::varchar from {table} "
        "where report = ? and day = ? order by _part, _line",
        (report, DAY),
    ).fetchall()
    prefix = PART_DIR.format(report=report)
    out = []
    for part, line, *keys, record in rows:
        assert part.startswith(prefix), part
        out.append((part.removeprefix(prefix), line, tuple(keys), json.loads(record)))
    return out


def quarantined(con) -> list[tuple]:
    return con.execute(
        "select regexp_extract(_part, '[^/]+$'), _line, reason, raw_line from raw.quarantine "
        "order by _part, _line nulls first"
    ).fetchall()


def schema_keys(con, report: str) -> set[str]:
    return {
        k for (k,) in con.execute("select key from raw.schema_keys where report = ?", (report,)).fetchall()
    }


def assert_landed_whole(con, report: str, records: list[dict], where: list[tuple[str, int]]) -> None:
    """Every record in raw at its place, with its keys and its content unchanged."""
    keys_of = REPORTS[report][2]
    expected = [(name, line, keys_of(r), r) for (name, line), r in zip(where, records, strict=True)]
    assert loaded(con, report) == expected
    assert schema_keys(con, report) == {k for r in records for k in r}


# --- every shape, every report -----------------------------------------------------------------
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("report", list(REPORTS))
def test_each_file_shape_lands_every_record_with_its_keys_and_position(con, root, report, shape):
    records = REPORTS[report][0]()
    files, where = SHAPES[shape](records)
    land(root, report, files)

    result = loader.load_partition(con, ORG, report, DAY, root, "load-1")

    assert (result.records, result.quarantined, result.duplicates, result.parts) == (
        len(records),
        0,
        0,
        len(files),
    )
    assert quarantined(con) == []
    assert_landed_whole(con, report, records, where)
    assert con.execute(
        "select status, records, quarantined, parts, message from raw.ingest_log"
    ).fetchall() == [("loaded", len(records), 0, len(files), None)]


@pytest.mark.parametrize("shape", ["ndjson LF", "json array pretty-printed", "pretty-printed object(s)"])
def test_the_28_day_aggregate_wrapper_is_one_record_keyed_on_its_window(con, root, shape):
    report = "organization-28-day"
    [wrapper] = REPORTS[report][0]()
    files, _ = SHAPES[shape]([wrapper])
    land(root, report, files)

    assert loader.load_partition(con, ORG, report, DAY, root, "load-1").records == 1

    row = con.execute(
        "select line_key, report_start_day, report_end_day, record ->> '$.organization_id', "
        "record ->> '$.created_at', json_array_length(record -> '$.day_totals'), "
        "record ->> '$.day_totals[0].day', record ->> '$.day_totals[27].day', _line "
        "from raw.copilot_reports_28_day"
    ).fetchall()
    assert row == [("totals", START, DAY, "999", "2026-10-06T03:12:45Z", 28, "2026-09-08", "2026-10-05", 1)]
    assert schema_keys(con, report) == {
        "report_start_day",
        "report_end_day",
        "organization_id",
        "created_at",
        "day_totals",
    }


@pytest.mark.parametrize("shape", ["ndjson CRLF", "json array on one line", "pretty-printed object(s)"])
@pytest.mark.parametrize("report", list(REPORTS))
def test_web_ui_export_fields_land_untouched_and_are_recorded_as_keys(con, root, report, shape):
    records = REPORTS[report][0](**WEB_UI)
    files, where = SHAPES[shape](records)
    land(root, report, files)

    result = loader.load_partition(con, ORG, report, DAY, root, "load-1")

    assert (result.records, result.quarantined) == (len(records), 0)
    assert_landed_whole(con, report, records, where)
    assert set(WEB_UI) <= schema_keys(con, report)
    table, _ = warehouse.REPORT_TABLES[report]
    assert con.execute(
        f"select distinct record ->> '$.etl_id', record ->> '$.day_partition', "
        f"record ->> '$.entity_id_partition' from {table}"
    ).fetchall() == [tuple(WEB_UI.values())]


def test_a_plain_ndjson_part_is_read_in_place_by_duckdb_without_a_temp_copy(con, root, monkeypatch):
    """The fast path: plain NDJSON (LF or CRLF, byte-order mark, blank lines) is never rewritten."""
    made = []
    real = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: made.append(k.get("prefix")) or real(*a, **k))
    records = REPORTS["users-1-day"][0]()
    land(
        root,
        "users-1-day",
        {
            "part-0001.ndjson": BOM + _ndjson(records[:1], b"\r\n"),
            "part-0002.ndjson": _blank_lines(records[1:2]),
            "part-0003.ndjson": _ndjson(records[2:], final=False),
        },
    )
    assert loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1").records == 3
    assert "copilot-load-" not in made
    # a sound gzip part is read by DuckDB itself, not copied either (zstd: test_compressed_landing)
    land(root, "organization-1-day", {P1: gzip.compress(_ndjson(REPORTS["organization-1-day"][0]()))})
    assert loader.load_partition(con, ORG, "organization-1-day", DAY, root, "load-2").records == 1
    assert "copilot-load-" not in made
    # the spy sees the loader's temp folder when a part does need rewriting (a JSON document)
    org = REPORTS["organization-1-day"][0]()
    land(root, "organization-1-day", {P1: b"\n".join(json.dumps(r, indent=2).encode() for r in org)})
    assert loader.load_partition(con, ORG, "organization-1-day", DAY, root, "load-3").records == 1
    assert made.count("copilot-load-") == 1


# --- cut short: the whole records load, the cut one is quarantined with a reason ----------------
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("report", list(REPORTS))
def test_a_truncated_last_line_is_quarantined_and_the_whole_records_load(con, root, report, newline):
    records = REPORTS[report][0]()
    cut = _line(records[-1])[: len(_line(records[-1])) // 2]
    whole = records[:-1]
    land(root, report, {P1: _ndjson(whole, newline) + cut})

    result = loader.load_partition(con, ORG, report, DAY, root, "load-1")

    assert (result.records, result.quarantined) == (len(whole), 1)
    assert loaded(con, report) == [(P1, i, REPORTS[report][2](r), r) for i, r in enumerate(whole, start=1)]
    [(part, line, reason, raw)] = quarantined(con)
    assert (part, line, raw) == (P1, len(records), cut.decode())
    assert reason.startswith("malformed JSON") and "cut short" in reason and "ends mid-record" in reason
    assert con.execute("select records, quarantined, message from raw.ingest_log").fetchall() == [
        (len(whole), 1, "1 lines quarantined")
    ]


def test_a_bad_line_that_is_not_the_last_keeps_the_plain_malformed_reason(con, root):
    records = REPORTS["users-1-day"][0]()
    land(
        root,
        "users-1-day",
        {P1: _ndjson(records[:1]) + b'{"user_id": 5,\n' + _ndjson(records[1:], final=False)},
    )
    result = loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1")
    assert (result.records, result.quarantined) == (3, 1)
    [(_, line, reason, raw)] = quarantined(con)
    assert (line, reason, raw) == (2, "malformed JSON (invalid or truncated line)", '{"user_id": 5,')


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda rs: json.dumps(rs, indent=2).encode(), id="pretty array"),
        pytest.param(lambda rs: json.dumps(rs).encode(), id="array on one line"),
        pytest.param(
            lambda rs: b"\n".join(json.dumps(r, indent=2).encode() for r in rs), id="pretty objects"
        ),
        pytest.param(lambda rs: gzip.compress(json.dumps(rs, indent=2).encode()), id="gzip pretty array"),
    ],
)
@pytest.mark.parametrize("report", ["users-1-day", "users-28-day"])
def test_a_document_cut_mid_record_loads_its_whole_records_and_quarantines_the_rest(
    con, root, report, encode
):
    records = REPORTS[report][0]()
    data = encode(records)
    if data[:2] == b"\x1f\x8b":  # cut the decompressed text, then compress it again
        text = gzip.decompress(data)
        data = gzip.compress(text[: len(text) - 40])
    else:
        data = data[: len(data) - 40]  # the last record loses its end
    land(root, report, {P1: data})

    result = loader.load_partition(con, ORG, report, DAY, root, "load-1")

    assert (result.records, result.quarantined) == (len(records) - 1, 1)
    assert loaded(con, report) == [
        (P1, i, REPORTS[report][2](r), r) for i, r in enumerate(records[:-1], start=1)
    ]
    [(part, line, reason, raw)] = quarantined(con)
    assert (part, line) == (P1, len(records))
    assert "ends mid-record" in reason and f"record {len(records)}" in reason
    assert json.dumps(records[-1]["user_login"]) in raw, "the cut record's text is kept"


def test_a_pretty_object_cut_short_is_quarantined_whole_with_its_reason(con, root):
    [record] = REPORTS["organization-1-day"][0]()
    text = json.dumps(record, indent=2).encode()
    land(root, "organization-1-day", {P1: text[:-30], "part-0002.ndjson": b""})

    result = loader.load_partition(con, ORG, "organization-1-day", DAY, root, "load-1")

    assert (result.records, result.quarantined, result.parts) == (0, 1, 2)
    [(_, line, reason, raw)] = quarantined(con)
    assert line == 1 and "ends mid-record" in reason and "line 1" in reason
    assert raw == text[:-30].decode()


def test_a_gzip_part_cut_short_loads_what_it_holds_and_says_the_rest_is_missing(con, root):
    records = REPORTS["users-1-day"][0]()
    packed = gzip.compress(_ndjson(records))
    land(root, "users-1-day", {P1: packed[: len(packed) - 20]})

    result = loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1")

    got = loaded(con, "users-1-day")
    assert [row[3] for row in got] == records[: len(got)], "what decompressed loads unchanged"
    assert len(got) >= len(records) - 1
    rows = quarantined(con)
    assert result.quarantined == len(rows) >= 1
    [(line, reason, raw)] = [(line, reason, raw) for _, line, reason, raw in rows if line is None]
    assert "gzip data ends early" in reason and raw is None


def test_a_corrupt_gzip_part_is_quarantined_with_a_reason_and_other_parts_load(con, root):
    records = REPORTS["users-1-day"][0]()
    packed = bytearray(gzip.compress(_ndjson(records) * 50))
    packed[30:60] = b"\x00" * 30
    other = user_day(2001)
    land(root, "users-1-day", {P1: bytes(packed), "part-0002.ndjson": _ndjson([other])})

    result = loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1")

    got = loaded(con, "users-1-day")
    assert [row for row in got if row[0] == "part-0002.ndjson"] == [("part-0002.ndjson", 1, (2001,), other)]
    notes = [(line, reason) for part, line, reason, _ in quarantined(con) if part == P1 and line is None]
    assert len(notes) == 1 and notes[0][1].startswith("gzip data is corrupt")
    assert result.quarantined >= 1


# --- malformed documents: quarantined, never dropped -------------------------------------------
def test_a_malformed_array_is_quarantined_whole_and_other_parts_load(con, root):
    records = REPORTS["users-1-day"][0]()
    bad = json.dumps(records, indent=2).encode().replace(b'"dev-1002"', b"dev-1002", 1)
    land(root, "users-1-day", {P1: bad, "part-0002.ndjson": _ndjson(records[2:])})

    result = loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1")

    assert (result.records, result.quarantined) == (1, 1)
    [(part, line, reason, raw)] = quarantined(con)
    assert (part, line) == (P1, None)
    assert reason.startswith("malformed JSON array file") and "line" in reason
    assert raw == bad.decode()


def test_ndjson_whose_first_line_is_malformed_is_read_line_by_line(con, root):
    """A first line that is not whole JSON does not make the part a multi-line document."""
    records = REPORTS["users-1-day"][0]()
    bad = b'{"day": "broken", "user_id": 1, "code_generation_activity_count": 3,'
    land(root, "users-1-day", {P1: bad + b"\n" + _ndjson(records)})

    result = loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1")

    assert (result.records, result.quarantined) == (3, 1)
    assert_landed_whole(con, "users-1-day", records, _each(P1, records, first=2))
    assert quarantined(con) == [(P1, 1, "malformed JSON (invalid or truncated line)", bad.decode())]


def test_a_part_too_large_to_load_names_the_partition_and_no_url(con, root, monkeypatch):
    monkeypatch.setattr(loader, "MAX_LINE_BYTES", 1 << 16)
    record = user_day(1, padding="x" * (1 << 17))
    land(root, "users-1-day", {P1: gzip.compress(json.dumps(record, indent=2).encode())})
    with pytest.raises(loader.LoadError) as info:
        loader.load_partition(con, ORG, "users-1-day", DAY, root, "load-1")
    message = str(info.value)
    assert message.startswith("organization:octo-demo users-1-day 2026-10-05: ")
    assert "longer than 65,536 bytes" in message
    assert "http" not in message and "xxxxxxxx" not in message and len(message) < 500
