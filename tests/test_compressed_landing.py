"""Compressed landing parts (``COPILOT_LANDING_COMPRESSION``): written zstd or gzip, loaded like plain ones.

Downloaded parts are stored as ``part-NNNN.ndjson.zst`` by default (``gzip``: ``.ndjson.gz``); the
manifest says so and keeps both sizes. The loader gives the same raw rows and quarantine from a
compressed partition as from the same bytes landed plain, DuckDB reading sound compressed parts
itself, and landing zones written before (plain or ``.gz`` parts) keep loading, also mixed with new
partitions.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import zstandard
from copilot_warehouse import config, warehouse
from copilot_warehouse.config import ConfigError, Scope
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader

ORG = Scope("organization", "octo-demo")
DAY = date(2026, 10, 5)
USERS = "users-1-day"
BOM = b"\xef\xbb\xbf"


def user(user_id: int, day: date = DAY, **extra: object) -> dict:
    return {
        "day": day.isoformat(),
        "user_id": user_id,
        "user_login": f"u{user_id}",
        "loc_added_sum": 3,
        **extra,
    }


def nd(*records: dict, newline: bytes = b"\n") -> bytes:
    return b"".join(json.dumps(r).encode() + newline for r in records)


def land_downloaded(root: Path, parts: list[bytes], report: str = USERS, day: date = DAY, compression=None):
    """Land parts as the fetch task does (``part_path`` then ``commit``)."""
    with zone.partition_writer(root, ORG, report, day, compression) as writer:
        for index, data in enumerate(parts, start=1):
            writer.part_path(index).write_bytes(data)
        return writer.commit(200)


def raw_rows(con, table: str = "raw.copilot_usage_users") -> list[tuple]:
    # the part's file name differs by its .gz suffix only; load ids and times differ by run
    return con.execute(
        f"select regexp_replace(_part, '\\.(gz|zst)$', ''), _line, record::varchar from {table} order by all"
    ).fetchall()


def quarantine_rows(con) -> list[tuple]:
    return con.execute(
        "select regexp_replace(_part, '\\.(gz|zst)$', ''), _line, reason, raw_line from raw.quarantine "
        "order by all"
    ).fetchall()


@pytest.fixture
def con(tmp_path):
    connection = warehouse.connect(tmp_path / "warehouse.duckdb", lock_timeout=5)
    yield connection
    connection.close()


# --- the setting ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, env, expected",
    [
        (None, None, "zstd"),
        (None, "", "zstd"),
        (None, " NONE ", "none"),
        (None, "GZIP", "gzip"),
        ("gzip", "none", "gzip"),
        ("zstd", "gzip", "zstd"),
        ("", "none", "none"),
    ],
)
def test_the_setting_defaults_to_zstd_and_reads_the_environment(monkeypatch, value, env, expected):
    if env is None:
        monkeypatch.delenv(config.ENV_LANDING_COMPRESSION, raising=False)
    else:
        monkeypatch.setenv(config.ENV_LANDING_COMPRESSION, env)
    assert config.landing_compression(value) == expected


@pytest.mark.parametrize("bad", ["zst", "gz", "true", "1"])
def test_a_wrong_setting_is_refused_before_anything_is_written(monkeypatch, tmp_path, bad):
    monkeypatch.setenv(config.ENV_LANDING_COMPRESSION, bad)
    with pytest.raises(ConfigError, match="COPILOT_LANDING_COMPRESSION must be one of zstd, gzip, none"):
        land_downloaded(tmp_path / "landing", [nd(user(1))])
    assert zone.list_partitions(tmp_path / "landing") == []


# --- writing -------------------------------------------------------------------------------------
def decompress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


@pytest.mark.parametrize("setting, compression, suffix", [(None, "zstd", ".zst"), ("gzip", "gzip", ".gz")])
def test_downloaded_parts_are_stored_compressed_with_both_sizes_in_the_manifest(
    monkeypatch, tmp_path, setting, compression, suffix
):
    monkeypatch.delenv(config.ENV_LANDING_COMPRESSION, raising=False)
    root = tmp_path / "landing"
    body = nd(*(user(i) for i in range(1, 200)))
    manifest = land_downloaded(root, [body, b""], compression=setting)

    folder = root / zone.partition_relpath(ORG, USERS, DAY)
    assert sorted(p.name for p in folder.iterdir()) == [
        "_manifest.json",
        f"part-0001.ndjson{suffix}",
        f"part-0002.ndjson{suffix}",
    ]
    first = manifest["parts"][0]
    stored = (folder / f"part-0001.ndjson{suffix}").read_bytes()
    assert first["file"] == f"part-0001.ndjson{suffix}" and first["compression"] == compression
    # bytes and sha256 cover the stored (compressed) file; uncompressed_bytes the NDJSON in it
    assert (first["bytes"], first["sha256"]) == (len(stored), hashlib.sha256(stored).hexdigest())
    assert first["uncompressed_bytes"] == len(body) and decompress(stored, compression) == body
    assert len(stored) * 4 <= len(body)
    assert manifest["parts"][1]["uncompressed_bytes"] == 0
    assert json.loads((folder / "_manifest.json").read_text()) == manifest


def test_a_zstd_part_carries_a_content_checksum_and_its_size(tmp_path):
    body = nd(*(user(i) for i in range(1, 50)))
    land_downloaded(tmp_path / "landing", [body], compression="zstd")
    stored = next((tmp_path / "landing").rglob("part-0001.ndjson.zst")).read_bytes()
    params = zstandard.get_frame_parameters(stored)
    assert params.has_checksum and params.content_size == len(body)


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_the_same_content_gives_the_same_compressed_bytes(tmp_path, compression):
    a = land_downloaded(tmp_path / "a", [nd(user(1), user(2))], compression=compression)
    b = land_downloaded(tmp_path / "b", [nd(user(1), user(2))], compression=compression)
    assert a["parts"][0]["sha256"] == b["parts"][0]["sha256"]


def test_none_keeps_plain_parts(monkeypatch, tmp_path):
    monkeypatch.setenv(config.ENV_LANDING_COMPRESSION, "none")
    body = nd(user(1))
    manifest = land_downloaded(tmp_path / "landing", [body])
    assert manifest["parts"] == [
        {
            "file": "part-0001.ndjson",
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "compression": "none",
            "uncompressed_bytes": len(body),
        }
    ]


@pytest.mark.parametrize("setting", ["zstd", "gzip"])
@pytest.mark.parametrize(
    "arrived, suffix",
    [("gzip", ".gz"), ("zstd", ".zst")],
)
def test_a_download_that_already_is_compressed_is_not_compressed_twice(tmp_path, setting, arrived, suffix):
    body = nd(user(1))
    packed = gzip.compress(body) if arrived == "gzip" else zstandard.ZstdCompressor().compress(body)
    manifest = land_downloaded(tmp_path / "landing", [packed], compression=setting)
    part = manifest["parts"][0]
    # renamed for what it is, whatever the setting; the manifest says what is stored
    assert (part["file"], part["bytes"], part["compression"], part["uncompressed_bytes"]) == (
        f"part-0001.ndjson{suffix}",
        len(packed),
        arrived,
        None,
    )
    con = warehouse.connect(tmp_path / "w.duckdb", lock_timeout=5)
    try:
        result = loader.load_partition(con, ORG, USERS, DAY, tmp_path / "landing", "load-1")
    finally:
        con.close()
    assert (result.records, result.quarantined) == (1, 0)


def test_snapshot_files_written_by_name_stay_plain(tmp_path):
    root = tmp_path / "landing"
    with zone.partition_writer(root, ORG, loader.SNAPSHOT_REPORT, DAY, "gzip") as writer:
        writer.write_bytes(loader.SEATS_FILE, b'{"a":1}\n')
        manifest = writer.commit(200)
    assert [p["file"] for p in manifest["parts"]] == [loader.SEATS_FILE]


# --- loading: the same rows as plain -------------------------------------------------------------
START = DAY - timedelta(days=27)
WRAPPER = {
    "report_start_day": START.isoformat(),
    "report_end_day": DAY.isoformat(),
    "day_totals": [
        {"day": (START + timedelta(days=i)).isoformat(), "daily_active_users": i} for i in range(28)
    ],
}
CASES = {
    "ndjson over parts, a duplicate and bad lines": (
        USERS,
        [
            nd(user(1), user(2)) + b"not json\n" + nd(user(3, loc_added_sum=-1)),
            nd(user(2), user(4)) + b"\xff\xfe bad utf8\n" + nd(user(5)),
            b"",
        ],
    ),
    "CRLF, byte-order mark, blank lines, no final newline": (
        USERS,
        [BOM + nd(user(1), user(2), newline=b"\r\n") + b"\r\n  \r\n" + json.dumps(user(3)).encode()],
    ),
    "truncated last record": (USERS, [nd(user(1), user(2)) + json.dumps(user(3)).encode()[:-9]]),
    "json array pretty-printed": (USERS, [json.dumps([user(1), user(2)], indent=2).encode()]),
    "28-day wrapper written with indent": ("organization-28-day", [json.dumps(WRAPPER, indent=2).encode()]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_compressed_partition_loads_the_same_raw_rows_and_quarantine_as_plain(tmp_path, case):
    report, parts = CASES[case]
    table = warehouse.REPORT_TABLES[report][0]
    got = {}
    for compression in ("none", "gzip", "zstd"):
        root = tmp_path / compression
        manifest = land_downloaded(root, parts, report, compression=compression)
        assert {p["compression"] for p in manifest["parts"]} == {compression}
        con = warehouse.connect(tmp_path / f"{compression}.duckdb", lock_timeout=5)
        try:
            result = loader.load_partition(con, ORG, report, DAY, root, f"load-{compression}")
            got[compression] = (result, raw_rows(con, table), quarantine_rows(con))
        finally:
            con.close()
    assert got["gzip"] == got["none"]
    assert got["zstd"] == got["none"]
    assert got["zstd"][0].records > 0


SUFFIX = {"gzip": ".gz", "zstd": ".zst"}


def replace_part(root: Path, name: str, data: bytes) -> None:
    """Overwrite a landed part (a bad disk, a partial copy) and its manifest entry to match."""
    folder = root / zone.partition_relpath(ORG, USERS, DAY)
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "_manifest.json").read_text())
    for part in manifest["parts"]:
        if part["file"] == name:
            part.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (folder / "_manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_truncated_compressed_part_is_quarantined_clearly_and_the_rest_loads(con, tmp_path, compression):
    root = tmp_path / "landing"
    # a zstd block (up to 128 KB of NDJSON) decodes whole: several blocks, so some survive the cut
    land_downloaded(root, [nd(*(user(i) for i in range(1, 5000))), nd(user(9000))], compression=compression)
    name = f"part-0001.ndjson{SUFFIX[compression]}"
    part = root / zone.partition_relpath(ORG, USERS, DAY) / name
    replace_part(root, name, part.read_bytes()[:-200])

    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")

    notes = [r for r in quarantine_rows(con) if r[1] is None]
    assert len(notes) == 1 and f"{compression} data ends early" in notes[0][2]
    assert "the part is cut short" in notes[0][2]
    assert notes[0][0].endswith("part-0001.ndjson")
    ids = {r[0] for r in con.execute("select user_id from raw.copilot_usage_users").fetchall()}
    assert 9000 in ids and 1 in ids and len(ids) < 5000
    assert result.quarantined >= 1


@pytest.mark.parametrize("compression, offset", [("gzip", 40), ("zstd", 40), ("zstd", -30)])
def test_a_corrupt_compressed_part_is_quarantined_and_does_not_crash(con, tmp_path, compression, offset):
    root = tmp_path / "landing"
    land_downloaded(root, [nd(*(user(i) for i in range(1, 500))), nd(user(900))], compression=compression)
    name = f"part-0001.ndjson{SUFFIX[compression]}"
    part = root / zone.partition_relpath(ORG, USERS, DAY) / name
    data = bytearray(part.read_bytes())
    data[offset : offset + 20 or None] = b"\x00" * 20  # same size: only the remote sha256 check would notice
    part.write_bytes(bytes(data))
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    notes = [r for r in quarantine_rows(con) if r[1] is None]
    assert len(notes) == 1 and notes[0][2].startswith(f"{compression} data is corrupt")
    assert (900,) in con.execute("select user_id from raw.copilot_usage_users").fetchall()
    assert result.quarantined >= 1


def test_zstd_bytes_after_the_data_are_reported_and_the_data_loads(con, tmp_path):
    root = tmp_path / "landing"
    land_downloaded(root, [nd(user(1), user(2))], compression="zstd")
    name = "part-0001.ndjson.zst"
    part = root / zone.partition_relpath(ORG, USERS, DAY) / name
    replace_part(root, name, part.read_bytes() + b"trailing junk")
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert result.records == 2
    assert [r[2] for r in quarantine_rows(con)] == [
        "zstd part has 13 bytes after its zstd data; they were ignored"
    ]


def test_several_zstd_frames_and_a_zstd_part_under_any_name_load(con, tmp_path):
    root = tmp_path / "landing"
    cctx = zstandard.ZstdCompressor()
    frames = cctx.compress(nd(user(1))) + cctx.compress(nd(user(2)))
    zone.write_partition(root, ORG, USERS, DAY, 200, {"part-0001.ndjson": frames})  # recognised by content
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined) == (2, 0)
    assert con.execute("select _line, user_id from raw.copilot_usage_users order by 1").fetchall() == [
        (1, 1),
        (2, 2),
    ]


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_well_formed_compressed_part_is_read_by_duckdb_without_a_decompressed_copy(
    con, tmp_path, monkeypatch, compression
):
    def no_copy(*args):
        raise AssertionError("a well-formed compressed part was decompressed to a temp file")

    monkeypatch.setattr(loader, "_decompress", no_copy)
    root = tmp_path / "landing"
    land_downloaded(root, [nd(user(1), user(2)) + json.dumps(user(3)).encode()[:-4]], compression=compression)
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.quarantined) == (2, 1)
    assert [r[1:3] for r in quarantine_rows(con)] == [(3, loader._CUT_LINE)]


def test_old_plain_and_new_compressed_partitions_load_side_by_side(con, tmp_path):
    root = tmp_path / "landing"
    plain_day, gzip_day = DAY - timedelta(days=2), DAY - timedelta(days=1)
    # a landing zone written before compression: plain parts, manifests without "compression"
    zone.write_partition(
        root, ORG, USERS, plain_day, 200, {"part-0001.ndjson": nd(user(1, plain_day), user(2, plain_day))}
    )
    land_downloaded(root, [nd(user(1, gzip_day))], day=gzip_day, compression="gzip")
    land_downloaded(root, [nd(user(1), user(3))], compression="zstd")

    names = sorted(p.name for p in root.rglob("part-*"))
    assert names == ["part-0001.ndjson", "part-0001.ndjson.gz", "part-0001.ndjson.zst"]
    for ref in zone.list_partitions(root):
        loader.load_partition(con, ref.scope, ref.report, ref.day, root, f"load-{ref.day}")

    def part(day, name):
        return f"{zone.partition_relpath(ORG, USERS, day)}/{name}"

    assert con.execute(
        "select day::varchar, user_id, _part from raw.copilot_usage_users order by all"
    ).fetchall() == [
        (str(plain_day), 1, part(plain_day, "part-0001.ndjson")),
        (str(plain_day), 2, part(plain_day, "part-0001.ndjson")),
        (str(gzip_day), 1, part(gzip_day, "part-0001.ndjson.gz")),
        (str(DAY), 1, part(DAY, "part-0001.ndjson.zst")),
        (str(DAY), 3, part(DAY, "part-0001.ndjson.zst")),
    ]
    assert quarantine_rows(con) == []


def test_plain_gzip_and_zstd_parts_of_one_partition_load_together(con, tmp_path):
    root = tmp_path / "landing"
    files = {
        "part-0001.ndjson": nd(user(1)),
        "part-0002.ndjson.gz": gzip.compress(nd(user(2), user(1))),
        "part-0003.ndjson.zst": zstandard.ZstdCompressor().compress(nd(user(3))),
    }
    zone.write_partition(root, ORG, USERS, DAY, 200, files)
    result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
    assert (result.records, result.duplicates, result.quarantined) == (3, 1, 0)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_compressed_partition_on_remote_storage_loads(con, compression):
    fsspec = pytest.importorskip("fsspec")
    root = "memory://compressed-landing"
    try:
        manifest = land_downloaded(root, [nd(user(1), user(2))], compression=compression)
        assert manifest["parts"][0]["file"] == f"part-0001.ndjson{SUFFIX[compression]}"
        result = loader.load_partition(con, ORG, USERS, DAY, root, "load-1")
        assert (result.records, result.quarantined) == (2, 0)
    finally:
        fsspec.filesystem("memory").rm("/compressed-landing", recursive=True)


@pytest.mark.parametrize("fault", [False, True])
def test_decompression_holds_a_bounded_amount_and_loads_the_same_rows(tmp_path, monkeypatch, fault):
    monkeypatch.setattr(loader, "_INFLATE_MAX", 97)  # many bounded steps per compressed block
    if fault:  # the temp-file path too (as after a fault): force it for every compressed part
        monkeypatch.setattr(loader, "_direct", lambda scan: False)
    parts = [nd(*(user(i) for i in range(1, 300))) + json.dumps(user(300)).encode()[:-5]]
    got = {}
    for compression in ("none", "gzip", "zstd"):
        land_downloaded(tmp_path / compression, parts, compression=compression)
        con = warehouse.connect(tmp_path / f"{compression}.duckdb", lock_timeout=5)
        try:
            result = loader.load_partition(con, ORG, USERS, DAY, tmp_path / compression, "load-1")
            got[compression] = (result, raw_rows(con), quarantine_rows(con))
        finally:
            con.close()
    assert got["gzip"] == got["none"] and got["gzip"][0].records == 299
    assert got["zstd"] == got["none"]
