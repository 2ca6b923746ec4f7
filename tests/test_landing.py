"""The landing zone: layout, manifests, atomic partition replacement, listing and reading."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date
from pathlib import Path

import pytest
from copilot_warehouse.config import Scope
from copilot_warehouse.land import zone

ORG = Scope("organization", "octo-demo")
ENT = Scope("enterprise", "octo-enterprise")
DAY = date(2026, 10, 5)


@pytest.fixture(params=[pytest.param("path", id="local path"), pytest.param("url", id="file:// URL")])
def root(request, tmp_path) -> str:
    """A landing root given the two ways COPILOT_LANDING_PATH allows for local disks."""
    base = tmp_path / "landing"
    return str(base) if request.param == "path" else f"file://{base}"


def _local(root: str) -> Path:
    return Path(root.removeprefix("file://"))


def test_partition_layout_and_manifest(root):
    manifest = zone.write_partition(
        root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b'{"a":1}\n', "part-0002.ndjson": b""}
    )
    folder = _local(root) / "organization" / "octo-demo" / "users-1-day" / "2026-10-05"
    assert sorted(p.name for p in folder.iterdir()) == [
        "_manifest.json",
        "part-0001.ndjson",
        "part-0002.ndjson",
    ]
    on_disk = json.loads((folder / "_manifest.json").read_text())
    assert on_disk == manifest
    assert {k: on_disk[k] for k in ("scope_type", "scope_name", "report", "day", "http_status")} == {
        "scope_type": "organization",
        "scope_name": "octo-demo",
        "report": "users-1-day",
        "day": "2026-10-05",
        "http_status": 200,
    }
    assert on_disk["parts"] == [
        {"file": "part-0001.ndjson", "bytes": 8, "sha256": hashlib.sha256(b'{"a":1}\n').hexdigest()},
        {"file": "part-0002.ndjson", "bytes": 0, "sha256": hashlib.sha256(b"").hexdigest()},
    ]
    assert on_disk["fetched_at"].endswith("+00:00")
    assert "http" not in json.dumps({k: v for k, v in on_disk.items() if k != "http_status"})


def test_204_writes_a_manifest_without_parts(root):
    zone.write_partition(root, ENT, "enterprise-1-day", DAY, 204)
    manifest = zone.read_manifest(root, ENT, "enterprise-1-day", DAY)
    assert manifest["http_status"] == 204
    assert manifest["parts"] == []
    with zone.open_partition(root, ENT, "enterprise-1-day", DAY) as opened:
        assert opened.files == []


def test_a_partition_never_landed_reads_as_none_and_open_names_it(root):
    assert zone.read_manifest(root, ORG, "users-1-day", DAY) is None
    with (
        pytest.raises(
            zone.LandingError, match="organization:octo-demo users-1-day 2026-10-05: not landed"
        ),
        zone.open_partition(root, ORG, "users-1-day", DAY),
    ):
        pass


def test_replacing_a_partition_leaves_only_the_new_parts(root):
    zone.write_partition(
        root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b"1\n", "part-0002.ndjson": b"2\n"}
    )
    zone.write_partition(root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b"new\n"})
    parent = _local(root) / "organization" / "octo-demo" / "users-1-day"
    assert [p.name for p in parent.iterdir()] == ["2026-10-05"], "no staging or old folders left behind"
    with zone.open_partition(root, ORG, "users-1-day", DAY) as opened:
        assert [(rel, local.read_bytes()) for rel, local in opened.files] == [
            ("organization/octo-demo/users-1-day/2026-10-05/part-0001.ndjson", b"new\n")
        ]


def test_a_failed_write_keeps_the_previous_partition(root):
    zone.write_partition(root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b"old\n"})
    with pytest.raises(ConnectionError), zone.partition_writer(root, ORG, "users-1-day", DAY) as writer:
        writer.part_path(1).write_bytes(b"half a download")
        raise ConnectionError("download interrupted")
    with zone.open_partition(root, ORG, "users-1-day", DAY) as opened:
        assert opened.files[0][1].read_bytes() == b"old\n"
    parent = _local(root) / "organization" / "octo-demo" / "users-1-day"
    assert [p.name for p in parent.iterdir()] == ["2026-10-05"]


def test_a_writer_that_never_commits_publishes_nothing(root):
    with zone.partition_writer(root, ORG, "users-1-day", DAY) as writer:
        writer.part_path(1).write_bytes(b"x\n")
    assert zone.list_partitions(root) == []


def test_readers_see_the_old_or_the_new_partition_never_half(tmp_path):
    root = str(tmp_path / "landing")
    zone.write_partition(root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b"v0\n"})
    stop = threading.Event()
    problems: list[str] = []
    reads: list[bool] = []

    def reader() -> None:
        # What the loader does: open, read, then check the partition is still the one opened.
        while not stop.is_set():
            try:
                with zone.open_partition(root, ORG, "users-1-day", DAY) as opened:
                    version = opened.manifest.get("version", 0)
                    contents = [local.read_bytes() for _, local in opened.files]
                    consistent = contents == [f"v{version}\n".encode()] * (1 if version % 2 == 0 else 3)
                    if not consistent and opened.still_current(root):
                        problems.append(f"manifest v{version} with parts {contents}")
                    reads.append(consistent)
            except FileNotFoundError:
                continue  # replaced while reading: still_current would be false, read again
            except Exception as exc:  # anything else is a defect of the landing zone
                problems.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, 60):
            n_parts = 1 if version % 2 == 0 else 3
            files = {zone.part_name(i): f"v{version}\n".encode() for i in range(1, n_parts + 1)}
            zone.write_partition(root, ORG, "users-1-day", DAY, 200, files, version=version)
    finally:
        stop.set()
        thread.join()
    assert problems == []
    assert any(reads), "the reader got consistent reads while partitions were replaced"


def test_list_partitions_finds_every_landed_partition(root):
    zone.write_partition(root, ORG, "users-1-day", date(2026, 10, 6), 200, {"part-0001.ndjson": b""})
    zone.write_partition(root, ORG, "users-1-day", DAY, 204)
    zone.write_partition(root, ENT, "enterprise-1-day", DAY, 200, {"part-0001.ndjson": b""})
    with zone.partition_writer(root, ORG, "user-teams-1-day", DAY) as writer:
        writer.part_path(1).write_bytes(b"")  # never committed: not a partition
    refs = zone.list_partitions(root)
    assert [(r.scope.label, r.report, r.day.isoformat()) for r in refs] == [
        ("enterprise:octo-enterprise", "enterprise-1-day", "2026-10-05"),
        ("organization:octo-demo", "users-1-day", "2026-10-05"),
        ("organization:octo-demo", "users-1-day", "2026-10-06"),
    ]
    assert [r.day for r in zone.list_partitions(root, ORG, "users-1-day")] == [DAY, date(2026, 10, 6)]
    assert zone.list_partitions(str(_local(root) / "missing")) == []


def test_remote_landing_downloads_and_verifies_parts():
    """A non-local fsspec file system (memory://) takes the object-storage path."""
    import fsspec

    root = "memory://copilot-landing-test"
    try:
        zone.write_partition(root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b'{"a":1}\n'})
        zone.write_partition(root, ORG, "users-1-day", DAY, 200, {"part-0001.ndjson": b'{"a":2}\n'})
        assert [r.day for r in zone.list_partitions(root)] == [DAY]
        with zone.open_partition(root, ORG, "users-1-day", DAY) as opened:
            rel, local = opened.files[0]
            assert rel == "organization/octo-demo/users-1-day/2026-10-05/part-0001.ndjson"
            assert local.read_bytes() == b'{"a":2}\n'
            assert opened.still_current(root)
        assert not local.exists(), "the temporary download is removed"
        fs = fsspec.filesystem("memory")
        fs.pipe(f"/copilot-landing-test/{rel}", b"tampered\n")
        with (
            pytest.raises(zone.LandingError, match="do not match the manifest"),
            zone.open_partition(root, ORG, "users-1-day", DAY),
        ):
            pass
    finally:
        fsspec.filesystem("memory").rm("/copilot-landing-test", recursive=True)


@pytest.mark.parametrize(
    "report, name",
    [
        pytest.param("../etc", "part-0001.ndjson", id="report escaping the root"),
        pytest.param("users-1-day", "../x", id="file escaping the partition"),
        pytest.param("users-1-day", "_manifest.json", id="manifest written by hand"),
    ],
)
def test_names_that_would_escape_the_layout_are_refused(tmp_path, report, name):
    with pytest.raises(zone.LandingError):
        zone.write_partition(str(tmp_path), ORG, report, DAY, 200, {name: b""})
