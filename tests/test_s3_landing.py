"""The landing zone on S3: a real S3-compatible server (moto, HTTP on 127.0.0.1) behind s3fs.

The same fetch-and-load path as a local landing zone (``ingest.run_range``: download from the
simulator, land through ``land/zone.py``, load through ``load/loader.py``) must give the same raw
rows; a rerun changes nothing; a missing bucket or refused credentials fail with a message that
names the landing zone and the cause, and never the secret key.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from copilot_warehouse import config
from copilot_warehouse.config import Scope
from copilot_warehouse.land import zone
from copilot_warehouse.pipeline import ingest
from harness.duck import schema_rows
from harness.s3 import SECRET_KEY, s3_environment

pytestmark = pytest.mark.integration

ORG = Scope("organization", "octo-demo")
ENT = Scope("enterprise", "octo-enterprise")
DAYS = [date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8)]
TOKEN = "sim-token"
# Columns that record when or by which run a row was loaded, not what was landed.
VOLATILE = re.compile(r"load_id|_at$")
# Append-only history (one row per load or probe): compared as the set of distinct rows.
HISTORY = {"ingest_log", "report_availability"}


def raw_rows(db: Path) -> dict[str, list[tuple]]:
    """Every raw.* table's rows, sorted, without the load-time columns (history tables distinct)."""
    return schema_rows(db, "raw", VOLATILE.search, distinct=HISTORY)


def run(client, root: str, db: Path) -> dict:
    summary = ingest.run_range(client, [ORG, ENT], DAYS, root, db, snapshot_day=DAYS[-1])
    assert summary["errors"] == [], summary["errors"]
    return summary


def test_s3_landing_zone_loads_the_same_raw_rows_as_a_local_one(client, s3_landing, tmp_path):
    local = run(client, str(tmp_path / "landing"), tmp_path / "local.duckdb")
    remote = run(client, s3_landing.root, tmp_path / "s3.duckdb")

    assert remote["receipts"] == local["receipts"] and set(remote["receipts"]) == {"landed"}
    # The partitions are objects in the moto bucket, laid out as on disk.
    keys = s3_landing.server.keys(s3_landing.bucket, "landing/")
    on_disk = sorted(
        "landing/" + p.relative_to(tmp_path / "landing").as_posix()
        for p in (tmp_path / "landing").rglob("*")
        if p.is_file()
    )
    assert keys == on_disk
    assert zone.list_partitions(s3_landing.root) == zone.list_partitions(str(tmp_path / "landing"))
    rows = raw_rows(tmp_path / "s3.duckdb")
    assert rows["copilot_usage_users"], "users were loaded"
    assert rows == raw_rows(tmp_path / "local.duckdb")

    # A rerun replaces every partition in place and loads the same rows again.
    run(client, s3_landing.root, tmp_path / "s3.duckdb")
    assert s3_landing.server.keys(s3_landing.bucket, "landing/") == keys
    assert raw_rows(tmp_path / "s3.duckdb") == rows
    # So does loading the landed zone again without fetching (a retried load task).
    ingest.load_receipts(ingest.landed_receipts(s3_landing.root), tmp_path / "s3.duckdb", s3_landing.root)
    assert raw_rows(tmp_path / "s3.duckdb") == rows


def test_replacing_a_partition_on_s3_and_reading_it_verified(s3_landing):
    root = s3_landing.root
    zone.write_partition(root, ORG, "users-1-day", DAYS[0], 200, {"part-0001.ndjson": b'{"a":1}\n'})
    zone.write_partition(root, ORG, "users-1-day", DAYS[0], 200, {"part-0001.ndjson": b'{"a":2}\n'})
    with zone.open_partition(root, ORG, "users-1-day", DAYS[0]) as opened:
        assert opened.files[0][1].read_bytes() == b'{"a":2}\n'
        assert opened.still_current(root)
    # Another writer (a Celery worker) replaces it: this process sees the new manifest.
    s3_landing.server.client().put_object(
        Bucket=s3_landing.bucket,
        Key="landing/organization/octo-demo/users-1-day/2026-10-06/part-0001.ndjson",
        Body=b"tampered\n",
    )
    with (
        pytest.raises(zone.LandingError, match="do not match the manifest"),
        zone.open_partition(root, ORG, "users-1-day", DAYS[0]),
    ):
        pass


def test_a_missing_bucket_fails_clearly_and_is_not_created(client, s3_landing, tmp_path):
    root = "s3://copilot-no-such-bucket/landing"
    with pytest.raises(zone.LandingError) as caught:
        ingest.run_range(client, [ORG], DAYS[:1], root, tmp_path / "w.duckdb")
    message = str(caught.value)
    assert "s3://copilot-no-such-bucket/landing" in message and "bucket does not exist" in message
    assert SECRET_KEY not in message
    buckets = [b["Name"] for b in s3_landing.server.client().list_buckets()["Buckets"]]
    assert "copilot-no-such-bucket" not in buckets


def test_refused_credentials_fail_clearly_without_the_secret(client, s3_landing, tmp_path, monkeypatch):
    import moto.settings

    # moto checks credentials only when told to; "wrong-key" is no access key it knows.
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    with (
        s3_environment(s3_landing.server.env(access_key="wrong-key", secret_key=SECRET_KEY)),
        pytest.raises(zone.LandingError) as caught,
    ):
        ingest.run_range(client, [ORG], DAYS[:1], s3_landing.root, tmp_path / "w.duckdb")
    message = str(caught.value)
    assert s3_landing.root in message and "PermissionError" in message
    assert "Forbidden" in message and "check the storage credentials" in message
    assert SECRET_KEY not in message and config.parse_day(DAYS[0]).isoformat() in message
