"""Fault injection end to end: every simulator fault through the real fetch -> land -> load path.

Each case starts from a warehouse where two days of one organization were already loaded cleanly
(copied from a session baseline), plans one fault on a real :class:`SimulatorServer`, then runs
what the ingest DAG runs: ``ingest.fetch_scope_days`` with a real ``CopilotClient`` (short
timeouts, a recording ``sleep``) over three days, and ``ingest.load_receipts`` into a real DuckDB
file. The fault hits ``users-1-day`` on a day that was already loaded and on a new day.

A case ends one of two ways, and the test asserts which:

- **success**: every partition's raw rows equal the simulator's clean records (keys, counters,
  the whole record), bad lines are in ``raw.quarantine`` with reason and raw line and counted in
  the load summary, repeated records are dropped and counted, new fields are in
  ``raw.schema_keys``;
- **failed cleanly**: the failed partitions' receipts and ``raw.ingest_log`` name scope, report
  and day; the day loaded before keeps its rows (same load id, same checksum) and its landed
  files; the new day has no rows and no landing partition; every other partition is correct.

Then the fault is cleared and the same days are fetched again: the raw tables must equal those of
a run that never saw a fault. Throughout, the token and the signed links' ``signature`` and
``expires`` values must not appear in logs (DEBUG, urllib3 included), exception text, receipts,
landing files or any text/JSON column of the warehouse.

Each case records a row of ``docs/reliability.md`` through the ``fault_matrix`` fixture.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from copilot_dev.simulator import KINDS, Dataset, SimulatorConfig, SimulatorServer
from copilot_dev.simulator.data import split_parts
from copilot_dev.simulator.faults import DATA_KINDS
from copilot_warehouse import config, warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.extract.client import CopilotApiError, CopilotClient
from copilot_warehouse.land import zone
from copilot_warehouse.load import loader
from copilot_warehouse.pipeline import ingest
from harness.files import content

pytest_plugins = ["harness.fault_matrix"]
pytestmark = pytest.mark.integration

TOKEN = "fault-suite-token-5f1c2a9e7d"
ORG = Scope("organization", "octo-demo")
D0, D1, D2 = date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)
LOADED_BEFORE = [D0, D1]  # the baseline warehouse holds these days, loaded cleanly
DAYS = [D0, D1, D2]  # every case fetches these
REPORT = "users-1-day"  # the report every fault is aimed at
TARGET = rf"{REPORT}/({D1}|{D2})"  # its report calls (and downloads) on the re-pulled and the new day
PARTS = 2
SIM = {
    "orgs": (ORG.name,),
    "enterprises": (),
    "users_per_org": 16,
    "start_day": date(2026, 11, 2),
    "end_day": date(2026, 11, 22),
    "token": TOKEN,
    "parts": PARTS,
    "link_ttl_seconds": 4321,
}
REPORTS = config.DAILY_REPORTS[config.ORGANIZATION]
READ_TIMEOUT = 2.0  # generous: the machine may be busy, and a spurious timeout is a retry
SLOW_SECONDS = 4.0
MAX_ATTEMPTS = 3
WAREHOUSE_FILE = "warehouse.duckdb"
LOAD_METADATA = ("_load_id", "_loaded_at")
COUNTERS = loader.COUNTER_FIELDS


# --- the cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One fault, where it is aimed, and the outcome the pipeline promises."""

    id: str
    kind: str
    where: str  # for the published matrix
    expected: str  # for the published matrix
    outcome: str = "success"  # or "failed"
    match: str = TARGET
    times: int | None | str = "default"
    on: str | None = None  # the fault plan's ``where``: "api", "download" or None (the kind's default)
    opts: dict[str, Any] = field(default_factory=dict)


REPORT_CALL = f"{REPORT} report call, re-pulled and new day"
DOWNLOADS = f"every {REPORT} download, re-pulled and new day"
CASES: list[Case] = [
    Case("500 burst", "status", REPORT_CALL, "retried, data identical", times=2, opts={"status": 500}),
    Case("502 burst", "status", REPORT_CALL, "retried, data identical", times=2, opts={"status": 502}),
    Case("503 burst", "status", REPORT_CALL, "retried, data identical", times=2, opts={"status": 503}),
    Case(
        "503 outage",
        "status",
        REPORT_CALL,
        "gives up after max attempts, earlier data kept",
        outcome="failed",
        times=None,
        opts={"status": 503},
    ),
    Case(
        "502 on a download",
        "status",
        f"first {REPORT} download",
        "retried, data identical",
        times=1,
        on="download",
        opts={"status": 502},
    ),
    Case(
        "slow report call",
        "slow",
        f"{REPORT_CALL} ({SLOW_SECONDS} s > {READ_TIMEOUT} s read timeout)",
        "timeout retried, data identical",
        opts={"seconds": SLOW_SECONDS},
    ),
    Case(
        "slow download",
        "slow",
        f"first {REPORT} download ({SLOW_SECONDS} s > {READ_TIMEOUT} s read timeout)",
        "timeout retried, data identical",
        on="download",
        opts={"seconds": SLOW_SECONDS},
    ),
    Case("reset mid-body on the report call", "reset", REPORT_CALL, "retried, data identical"),
    Case(
        "reset mid-body on a download",
        "reset",
        f"first {REPORT} download",
        "retried, nothing half-written, data identical",
        on="download",
    ),
    Case(
        "429 with Retry-After",
        "rate_limit_429",
        REPORT_CALL,
        "waits Retry-After, retried, data identical",
        opts={"retry_after": 1},
    ),
    Case(
        "403 secondary rate limit",
        "secondary_rate_limit",
        f"{REPORT_CALL} (x-ratelimit-remaining 0, reset in 1 s)",
        "waits until x-ratelimit-reset, retried, data identical",
        opts={"reset_in": 1},
    ),
    Case(
        "expired download link",
        "expired_link",
        f"first {REPORT} download (403 Request has expired)",
        "fresh links requested, data identical",
    ),
    Case(
        "download links keep expiring",
        "expired_link",
        DOWNLOADS,
        "gives up after two link refreshes, earlier data kept",
        outcome="failed",
        times=None,
    ),
    Case(
        "truncated download",
        "truncated",
        f"first {REPORT} download (half of Content-Length)",
        "short body retried, data identical",
    ),
    Case(
        "part 2 always truncated",
        "truncated",
        f"every part-2 download of {REPORT}, re-pulled and new day",
        "gives up, part 1 never published alone, earlier data kept",
        outcome="failed",
        match=rf"{REPORT}/({D1}|{D2})/part-2$",
        times=None,
    ),
    Case(
        "malformed NDJSON line",
        "malformed_line",
        DOWNLOADS,
        "bad line quarantined with reason and raw text, every record loaded",
    ),
    Case("JSON array instead of NDJSON", "json_array", DOWNLOADS, "array expanded, data identical"),
    Case(
        "10 MB line",
        "huge_line",
        f"part 1 of {REPORT} on the re-pulled day",
        "loaded whole, padding key in raw.schema_keys",
        match=rf"{REPORT}/{D1}/part-1$",
    ),
    Case(
        "records repeated across parts",
        "repeated_records",
        DOWNLOADS,
        "duplicates dropped and counted, data identical",
    ),
    Case(
        "unknown fields",
        "unknown_fields",
        DOWNLOADS,
        "kept in the raw record, new keys in raw.schema_keys",
    ),
    Case(
        "missing fields",
        "missing_fields",
        DOWNLOADS,
        "loaded as sent (no invented values), keys and counters identical",
    ),
    Case(
        "negative or non-numeric counters",
        "bad_counters",
        DOWNLOADS,
        "those records quarantined with reason, the others loaded",
    ),
]
LOCK_CASE = "warehouse locked"
FAULT_MATRIX_CASES = [c.id for c in CASES] + [LOCK_CASE]  # the rows of docs/reliability.md, in order


def test_every_fault_kind_has_a_case():
    assert {c.kind for c in CASES} == set(KINDS)
    assert len({c.id for c in CASES}) == len(CASES)


# --- helpers -------------------------------------------------------------------------------------


def make_client(server: SimulatorServer, waits: list[float]) -> CopilotClient:
    """A real client with short timeouts and a ``sleep`` that records instead of waiting."""
    return CopilotClient(
        server.url,
        TOKEN,
        timeout=(2.0, READ_TIMEOUT),
        max_attempts=MAX_ATTEMPTS,
        sleep=waits.append,
        max_wait=5.0,
        backoff=0.01,
    )


def record_links(server: SimulatorServer) -> list[str]:
    """Every signed link the server hands out from now on (to search for their secrets)."""
    issued: list[str] = []
    make_link = server.make_link

    def recording(*args: Any, **kwargs: Any) -> str:
        url = make_link(*args, **kwargs)
        issued.append(url)
        return url

    server.make_link = recording  # type: ignore[method-assign]
    return issued


def link_secrets(links: list[str]) -> set[str]:
    """The ``signature`` and ``expires`` values of signed links."""
    out: set[str] = set()
    for url in links:
        query = parse_qs(urlsplit(url).query)
        out.update(query["signature"])
        out.update(query["expires"])
    return out


def run(client: CopilotClient, root: Path) -> tuple[list[dict], dict]:
    """What the DAG's fetch and load tasks do for one scope: receipts, then the load summary."""
    release()
    receipts = ingest.fetch_scope_days(client, ORG, DAYS, root / "landing")
    summary = ingest.load_receipts(receipts, root / WAREHOUSE_FILE, root / "landing", lock_timeout=10)
    return receipts, summary


_READERS: dict[Path, duckdb.DuckDBPyConnection] = {}


def query(db: Path, sql: str, params: tuple | list = ()) -> list[tuple]:
    """Run a read-only query (one connection per file, kept until :func:`release`)."""
    con = _READERS.get(db)
    if con is None:
        con = _READERS[db] = duckdb.connect(str(db), read_only=True)
    return con.execute(sql, params).fetchall()


def release() -> None:
    """Close the read-only connections, so a writer (in or out of this process) can open the file."""
    while _READERS:
        _READERS.popitem()[1].close()


@pytest.fixture(autouse=True)
def _close_readers() -> Any:
    yield
    release()


def table_of(report: str) -> str:
    return warehouse.REPORT_TABLES[report][0]


def repo_key(record: dict) -> str | None:
    """A repository's key as the loader derives it: the first id or name present."""
    for path in loader.REPO_KEY_PATHS:
        value: Any = record
        for name in path.removeprefix("$.").split("."):
            value = value.get(name) if isinstance(value, dict) else None
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def key_of(report: str, record: dict) -> tuple:
    """The raw table's key columns of a record."""
    keys = warehouse.REPORT_TABLES[report][1]
    return tuple(repo_key(record) if k == "repo_key" else record.get(k) for k in keys)


def raw_records(db: Path, report: str, day: date) -> list[tuple[tuple, dict]]:
    """``(key columns, record)`` rows of one partition, in key order."""
    keys = warehouse.REPORT_TABLES[report][1]
    cols = "".join(f"{k}, " for k in keys)
    rows = query(
        db,
        f"select {cols}record from {table_of(report)} "
        "where scope_type = ? and scope_name = ? and report = ? and day = ?",
        (ORG.type, ORG.name, report, day),
    )
    out = [(tuple(r[:-1]), json.loads(r[-1])) for r in rows]
    return sorted(out, key=lambda kr: kr[0])


def raw_content(db: Path) -> dict[str, list[tuple]]:
    """Every raw data table and the quarantine, without load ids and load times."""
    out = {}
    tables = sorted({table_of(r) for r in REPORTS}) + ["raw.quarantine"]
    for table in tables:
        schema, name = table.split(".")
        columns = [
            c
            for (c,) in query(
                db,
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                (schema, name),
            )
            if c not in (*LOAD_METADATA, "load_id", "quarantined_at")
        ]
        out[table] = query(db, f"select {', '.join(columns)} from {table} order by all")
    return out


def fingerprints(db: Path) -> dict[tuple[str, str], tuple[str, str, int]]:
    """Per (report, day): checksum of the content, checksum including load id and time, rows."""
    out = {}
    for report in REPORTS:
        rows = query(
            db,
            f"""
            select day::varchar,
                md5(string_agg(record::varchar || '|' || _part || '|' || _line, chr(10)
                    order by _part, _line)),
                md5(string_agg(record::varchar || '|' || _part || '|' || _line || '|' || _load_id
                    || '|' || _loaded_at::varchar, chr(10) order by _part, _line)),
                count(*)
            from {table_of(report)} where report = ? group by day
            """,
            (report,),
        )
        out.update({(report, day): (content, full, n) for day, content, full, n in rows})
    return out


def schema_keys(db: Path) -> set[str]:
    """Top-level keys ``raw.schema_keys`` has seen in the faulted report."""
    return {k for (k,) in query(db, "select key from raw.schema_keys where report = ?", (REPORT,))}


def landed_manifest(root: Path, report: str, day: date) -> dict | None:
    return zone.read_manifest(root / "landing", ORG, report, day)


@dataclass
class Expected:
    """What one partition must hold after a fault run that loaded it."""

    records: list[dict]
    quarantined: list[str]  # the raw lines that must be in raw.quarantine
    duplicates: int


def expected_partition(dataset: Dataset, case: Case | None, report: str, day: date) -> Expected:
    """The clean records of a partition, changed the way ``case``'s data fault changes them.

    Only data faults change what a loaded partition holds; which parts they hit is decided by
    the same regular expression the simulator uses, on the same targets.
    """
    lines = dataset.report_lines(ORG, report, day) or []
    parts = split_parts(lines, PARTS)
    records: list[dict] = []
    quarantined: list[str] = []
    duplicates = 0
    for index, part in enumerate(parts):
        recs = [json.loads(line) for line in part]
        target = f"{ORG.api_prefix}/copilot/metrics/reports/{report}/{day.isoformat()}/part-{index + 1}"
        hit = (
            case is not None
            and case.kind in DATA_KINDS
            and case.on in (None, "download", "any")
            and re.search(case.match, target)
        )
        if hit:
            assert case is not None
            if case.kind == "malformed_line":
                quarantined.append('{"day": "broken", "user_id": 1, "code_generation_activity_count": 3,')
            elif case.kind == "huge_line" and recs:
                recs[0]["_simulator_padding"] = "x" * case.opts.get("size", 10 * 1024 * 1024)
            elif case.kind == "repeated_records":
                duplicates += len(parts[index - 1][:3] if index > 0 else parts[-1][-3:])
            elif case.kind == "unknown_fields":
                for rec in recs:
                    rec["future_counter_sum"] = 3
                    rec["totals_by_future_surface"] = [
                        {"surface": "glasses", "user_initiated_interaction_count": 1}
                    ]
            elif case.kind == "missing_fields":
                for rec in recs:
                    for name in ("totals_by_language_model", "used_cli", "ai_credits_used"):
                        rec.pop(name, None)
            elif case.kind == "bad_counters":
                spoiled = recs[:2]
                for k, rec in enumerate(spoiled):
                    rec["code_generation_activity_count"] = -7 if k == 0 else "12a"
                quarantined += [json.dumps(r, separators=(",", ":")) for r in spoiled]
                recs = recs[2:]
        records += recs
    return Expected(sorted(records, key=lambda r: key_of(report, r)), quarantined, duplicates)


def assert_partition(db: Path, dataset: Dataset, case: Case | None, report: str, day: date) -> Expected:
    """The raw rows of a partition are exactly the expected records (keys, counters, all fields)."""
    expected = expected_partition(dataset, case, report, day)
    got = raw_records(db, report, day)
    label = f"{report} {day}"
    assert [k for k, _ in got] == [key_of(report, r) for r in expected.records], f"{label}: keys"
    for (_, rec), want in zip(got, expected.records, strict=True):
        assert {c: rec.get(c) for c in COUNTERS} == {c: want.get(c) for c in COUNTERS}, f"{label}: counters"
        assert rec == want, f"{label}: record {key_of(report, want)}"
    quarantine = query(
        db,
        "select raw_line, reason, _part, _line from raw.quarantine where report = ? and day = ?",
        (report, day),
    )
    assert sorted(r[0] for r in quarantine) == sorted(expected.quarantined), f"{label}: quarantine"
    for _raw_line, reason, part, line in quarantine:
        assert reason and part.startswith(zone.partition_relpath(ORG, report, day))
        assert line is not None and line >= 1
        if case is not None and case.kind == "bad_counters":
            assert re.match(r"counter code_generation_activity_count is (negative: -7|not a number)", reason)
        else:
            assert reason == "malformed JSON (invalid or truncated line)", reason
    return expected


# --- secrets -------------------------------------------------------------------------------------


def find_secrets(needles: set[str], texts: dict[str, str | bytes], root: Path) -> list[str]:
    """Where any needle shows: the given texts, every landing file, every text/JSON column."""
    assert needles and all(re.fullmatch(r"[\w-]+", n) for n in needles)
    hits = []
    for where, text in texts.items():
        data = text if isinstance(text, bytes) else text.encode()
        hits += [f"{where}: {n}" for n in sorted(needles) if n.encode() in data]
    for path in sorted((root / "landing").rglob("*")):
        if path.is_file():
            data = content(path)  # a .gz part's decompressed bytes
            hits += [f"{path.name}: {n}" for n in sorted(needles) if n.encode() in data]
    pattern = "|".join(sorted(needles))
    db = root / WAREHOUSE_FILE
    columns = query(
        db,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type in ('VARCHAR', 'JSON')",
    )
    assert ("raw", "quarantine", "raw_line") in columns  # the scan reaches the tables it must
    for schema, table, column in columns:
        values = query(
            db,
            f'select "{column}"::varchar from "{schema}"."{table}" '
            f'where regexp_matches("{column}"::varchar, ?)',
            (pattern,),
        )
        for (value,) in values:
            hits += [f"{schema}.{table}.{column}: {n}" for n in sorted(needles) if n in value]
    return hits


def log_texts(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """Everything the captured log records say, tracebacks included."""
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_text:
            parts.append(record.exc_text)
        if record.exc_info and record.exc_info[0] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return {"logs": "\n".join(parts)}


def exception_texts(exc: BaseException) -> dict[str, str | bytes]:
    """What an exception shows wherever it ends up: message, repr, traceback, pickle."""
    return {
        "exception": f"{exc}\n{exc!r}\n{exc.args!r}",
        "traceback": "".join(traceback.format_exception(exc)),
        "pickled exception": pickle.dumps(exc),
    }


def direct_failure(client: CopilotClient, day: date, dest: Path) -> CopilotApiError:
    """Call the client the way ``fetch_report`` does and return the error the fault causes."""
    try:
        links = client.report_links(ORG, REPORT, day)
        assert links is not None
        for index, url in enumerate(links.links, start=1):
            client.download(url, dest / f"part-{index}.ndjson", scope=ORG, report=REPORT, day=day)
    except CopilotApiError as exc:
        return exc
    pytest.fail("the fault no longer fires")


# --- fixtures ------------------------------------------------------------------------------------


@dataclass
class Baseline:
    """A warehouse with ``LOADED_BEFORE`` loaded cleanly, and the clean reference of every day."""

    root: Path  # landing/ and warehouse.duckdb holding LOADED_BEFORE
    clean: Path  # the same, after a fault-free run over DAYS
    secrets: set[str]  # signature/expires values of the links issued while building them
    dataset: Dataset


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    server = SimulatorServer(SimulatorConfig(**SIM)).start()
    links = record_links(server)
    try:
        root = tmp_path_factory.mktemp("baseline")
        with make_client(server, []) as client:
            receipts = ingest.fetch_scope_days(client, ORG, LOADED_BEFORE, root / "landing")
            ingest.load_receipts(receipts, root / WAREHOUSE_FILE, root / "landing")
            clean = tmp_path_factory.mktemp("clean")
            shutil.copytree(root, clean, dirs_exist_ok=True)
            run(client, clean)
    finally:
        server.stop()
    return Baseline(root, clean, link_secrets(links), server.dataset)


@pytest.fixture
def workdir(baseline: Baseline, tmp_path: Path) -> Path:
    """A private copy of the baseline warehouse and landing zone."""
    root = tmp_path / "run"
    shutil.copytree(baseline.root, root)
    return root


def test_the_clean_run_loads_exactly_the_simulator_records(baseline: Baseline):
    """The control: without a fault every partition equals the simulator's records."""
    db = baseline.clean / WAREHOUSE_FILE
    for report in REPORTS:
        for day in DAYS:
            expected = assert_partition(db, baseline.dataset, None, report, day)
            assert expected.records, f"{report} {day} has records to compare"
    assert query(db, "select count(*) from raw.quarantine") == [(0,)]


def test_the_secret_scan_finds_what_it_looks_for(baseline: Baseline, workdir: Path, caplog):
    """A scan that can never find anything proves nothing: plant each kind of secret once."""
    signature = sorted(s for s in baseline.secrets if len(s) == 64)[0]
    expires = sorted(s for s in baseline.secrets if len(s) == 10)[0]
    # A log line that bypassed every masker (once Airflow is loaded, its masker would hide a
    # line logged here, which is the point of masking but would make this control vacuous).
    leaked_log_line = f"WARNING fault-suite.unfiltered leaked {TOKEN}"
    (workdir / "landing" / "stray.txt").write_text(f"?expires={expires}")
    release()
    con = duckdb.connect(str(workdir / WAREHOUSE_FILE))
    con.execute("update raw.ingest_log set message = ? where rowid = 0", (f"signature={signature}",))
    con.close()
    logs = {"logs": log_texts(caplog)["logs"] + "\n" + leaked_log_line}
    hits = find_secrets({TOKEN, signature, expires}, logs, workdir)
    assert hits == [
        f"logs: {TOKEN}",
        f"stray.txt: {expires}",
        f"raw.ingest_log.message: {signature}",
    ]


# --- the fault matrix ----------------------------------------------------------------------------


def describe_success(
    case: Case, receipts: list[dict], summary: dict, waits: list[float], root: Path, new_keys: list[str]
) -> str:
    """The observed outcome of a successful case, in words (no timings, no paths)."""
    retries = sum(int(r.get("retries") or 0) for r in receipts)
    refreshes = sum(
        int((landed_manifest(root, REPORT, day) or {}).get("link_refreshes") or 0) for day in (D1, D2)
    )
    words = []
    if refreshes:
        words.append(f"links re-requested {refreshes}x")
    if retries - refreshes:
        n = retries - refreshes
        words.append(f"{n} retr{'y' if n == 1 else 'ies'}")
    if case.kind == "rate_limit_429":
        words.append(f"waited {waits[0]:g} s as Retry-After said")
    if case.kind == "secondary_rate_limit":
        words.append("waited until x-ratelimit-reset")
    totals = summary["totals"]
    if totals["quarantined"]:
        words.append(f"{totals['quarantined']} lines quarantined")
    if totals["duplicates"]:
        words.append(f"{totals['duplicates']} duplicates dropped")
    if new_keys:
        words.append("new keys " + ", ".join(f"`{k}`" for k in new_keys))
    if case.kind in ("unknown_fields", "missing_fields", "huge_line"):
        tail = "records stored as sent, keys and counters identical"
    elif totals["quarantined"]:
        tail = "other records identical"
    else:
        tail = "data identical"
    return "success: " + ", ".join([*words, tail])


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_fault(
    case: Case,
    baseline: Baseline,
    workdir: Path,
    make_simulator,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    fault_matrix,
):
    caplog.set_level(logging.DEBUG)
    db = workdir / WAREHOUSE_FILE
    server = make_simulator(**SIM)
    links = record_links(server)
    before = fingerprints(db)
    manifests_before = {day: landed_manifest(workdir, REPORT, day) for day in DAYS}
    assert set(before) == {(r, d.isoformat()) for r in REPORTS for d in LOADED_BEFORE}
    assert manifests_before[D2] is None

    kwargs: dict[str, Any] = dict(case.opts)
    if case.times != "default":
        kwargs["times"] = case.times
    if case.on:
        kwargs["where"] = case.on
    fault = server.faults.add(case.kind, match=case.match, **kwargs)
    waits: list[float] = []
    texts: dict[str, str | bytes] = {}
    with make_client(server, waits) as client:
        receipts, summary = run(client, workdir)
        assert fault.hits >= 1, "the fault fired"
        texts["receipts"] = json.dumps(receipts)
        texts["summary"] = json.dumps(summary)
        failed = {(r["report"], date.fromisoformat(r["day"])): r for r in receipts if r["status"] == "failed"}
        after = fingerprints(db)

        if case.outcome == "failed":
            assert set(failed) == {(REPORT, D1), (REPORT, D2)}
            for (report, day), receipt in failed.items():
                for words in (ORG.label, report, day.isoformat()):
                    assert words in receipt["message"]
            logged = query(
                db,
                "select day, status, message from raw.ingest_log "
                "where report = ? and load_id = ? order by day",
                (REPORT, summary["load_id"]),
            )
            assert [(d, s) for d, s, _ in logged] == [(D0, "loaded"), (D1, "failed"), (D2, "failed")]
            assert all(f"{ORG.label} {REPORT} {d}" in m for d, s, m in logged if s == "failed")
            # the re-pulled day keeps what it had: same rows, same load id, same landed files
            assert after[(REPORT, D1.isoformat())] == before[(REPORT, D1.isoformat())]
            assert landed_manifest(workdir, REPORT, D1) == manifests_before[D1]
            # the new day has nothing: no rows, no landing partition, no half of one
            assert (REPORT, D2.isoformat()) not in after
            assert landed_manifest(workdir, REPORT, D2) is None
            assert not list(
                (workdir / "landing" / zone.partition_relpath(ORG, REPORT, D2)).parent.glob(f"*{D2}*")
            )
            assert summary["totals"]["failed"] == 2 and summary["totals"]["quarantined"] == 0
            error = direct_failure(client, D1, workdir / "direct")
            assert ORG.label in str(error) and REPORT in str(error) and str(D1) in str(error)
            texts.update(exception_texts(error))
            observed = "failed cleanly: " + failed[(REPORT, D1)]["message"]
        else:
            assert failed == {}
            assert all(r["status"] == "landed" for r in receipts)
        for report in REPORTS:
            for day in DAYS:
                if (report, day) in failed:
                    continue
                expected = assert_partition(db, baseline.dataset, case, report, day)
                # loads replace a partition whole: a re-pulled day has exactly its records again
                assert after.get((report, day.isoformat()), (None, None, 0))[2] == len(expected.records)
        if case.kind not in DATA_KINDS:
            # every partition loaded before holds the same content (the failed one: the same load)
            assert {k: after[k][0] for k in before} == {k: v[0] for k, v in before.items()}
        expected_q = sum(
            len(expected_partition(baseline.dataset, case, REPORT, d).quarantined) for d in (D1, D2)
        )
        expected_dups = sum(
            expected_partition(baseline.dataset, case, REPORT, d).duplicates for d in (D1, D2)
        )
        if case.outcome == "success":
            counts = summary["scopes"][ORG.label][REPORT]
            assert summary["totals"]["quarantined"] == counts["quarantined"] == expected_q
            assert summary["totals"]["duplicates"] == counts["duplicates"] == expected_dups
            assert query(db, "select count(*) from raw.quarantine") == [(expected_q,)]
            logged = query(
                db,
                "select sum(quarantined), sum(duplicates) from raw.ingest_log where load_id = ?",
                (summary["load_id"],),
            )
            assert logged == [(expected_q, expected_dups)]
        if case.kind == "rate_limit_429":
            assert waits == [float(case.opts["retry_after"])]
        elif case.kind == "secondary_rate_limit":
            assert len(waits) == 1 and 0.5 <= waits[0] <= 2.5, waits
        elif case.kind == "expired_link" and case.outcome == "success":
            assert server.count(rf"reports/{REPORT}$", status=200) == len(DAYS) + 1
        new_keys = sorted(schema_keys(db) - schema_keys(baseline.clean / WAREHOUSE_FILE))
        if case.kind == "unknown_fields":
            assert new_keys == ["future_counter_sum", "totals_by_future_surface"]
            assert query(
                db,
                "select distinct first_day, last_day from raw.schema_keys where key = 'future_counter_sum'",
            ) == [(D1, D2)]
        elif case.kind == "huge_line":
            assert new_keys == ["_simulator_padding"]
        else:
            assert new_keys == []
        if case.outcome == "success":
            # a transport fault costs one retry per time it fires; a data fault costs none
            expected_retries = (
                0 if case.kind in DATA_KINDS else case.times if isinstance(case.times, int) else 1
            )
            assert sum(int(r["retries"] or 0) for r in receipts) == expected_retries
            observed = describe_success(case, receipts, summary, waits, workdir, new_keys)
        quarantined = summary["totals"]["quarantined"]

        # clear the fault, fetch the same days again: the raw tables equal a fault-free run's
        server.faults.clear()
        rerun_receipts, rerun_summary = run(client, workdir)
        texts["rerun receipts"] = json.dumps(rerun_receipts) + json.dumps(rerun_summary)
        assert all(r["status"] == "landed" for r in rerun_receipts)
        assert rerun_summary["totals"]["quarantined"] == rerun_summary["totals"]["failed"] == 0
        assert raw_content(db) == raw_content(baseline.clean / WAREHOUSE_FILE)

    captured = capsys.readouterr()
    texts["stdout"], texts["stderr"] = captured.out, captured.err
    texts.update(log_texts(caplog))
    assert links, "the simulator issued signed links"
    assert any(r.name.startswith("urllib3") for r in caplog.records), "urllib3's DEBUG lines are searched"
    hits = find_secrets({TOKEN} | link_secrets(links) | baseline.secrets, texts, workdir)
    assert hits == []
    fault_matrix.record(
        case.id,
        fault=f"{case.id} (`{case.kind}`)",
        where=case.where,
        expected=("success: " if case.outcome == "success" else "failed cleanly: ") + case.expected,
        observed=observed,
        quarantined=quarantined,
        secrets_found=len(hits),
    )


# --- the warehouse lock --------------------------------------------------------------------------

HOLD_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("select count(*) from raw.ingest_log").fetchall()
print("locked", flush=True)
sys.stdin.read()
con.close()
"""


def test_a_locked_warehouse_waits_the_bounded_time_then_says_why(
    baseline: Baseline, workdir: Path, caplog, fault_matrix
):
    db = workdir / WAREHOUSE_FILE
    before = raw_content(db), fingerprints(db)
    receipts = ingest.landed_receipts(workdir / "landing", ORG)
    release()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(warehouse.WarehouseLockedError) as info:
            warehouse.connect(db, lock_timeout=1.0, poll_interval=0.1)
        waited = time.monotonic() - started
        assert 1.0 <= waited < 5.0
        message = str(info.value)
        assert str(db) in message
        assert "locked by another process (waited 1s)" in message
        assert "DuckDB allows one writer" in message
        with pytest.raises(warehouse.WarehouseLockedError):
            ingest.load_receipts(receipts, db, workdir / "landing", lock_timeout=0.5)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0
    assert (raw_content(db), fingerprints(db)) == before, "the file is intact"
    release()
    summary = ingest.load_receipts(receipts, db, workdir / "landing", lock_timeout=5)
    assert summary["totals"]["failed"] == 0
    hits = find_secrets({TOKEN} | baseline.secrets, {"error": message, **log_texts(caplog)}, workdir)
    assert hits == []
    fault_matrix.record(
        LOCK_CASE,
        fault="warehouse locked by another process",
        where="DuckDB file (a second process holds the write lock)",
        expected="failed cleanly: bounded wait, then WarehouseLockedError; file intact",
        observed="failed cleanly: " + message.replace(str(db), "<warehouse>"),
        quarantined=0,
        secrets_found=len(hits),
    )


# --- the marts -----------------------------------------------------------------------------------

CONTRACT_MARTS = (
    "fct_copilot_usage_daily",
    "fct_copilot_acceptance_weekly",
    "fct_copilot_member_daily",
    "fct_copilot_member_summary",
)


def build_marts(db: Path, target: Path) -> dict[str, list[tuple]]:
    """``dbt run`` of the contract marts (and what they need); their rows without load metadata."""
    from copilot_warehouse.transform import dbt_runner

    release()
    selection = [f"+{m}" for m in CONTRACT_MARTS]
    result = dbt_runner.run(["run", "--select", *selection], warehouse_path=db, target_path=target)
    assert result.success, result
    out = {}
    for mart in CONTRACT_MARTS:
        columns = [
            c
            for (c,) in query(
                db,
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                (mart,),
            )
            if "loaded_at" not in c and "load_id" not in c
        ]
        out[mart] = query(db, f"select {', '.join(columns)} from marts.{mart} order by all")
        assert out[mart], f"{mart} has rows to compare"
    release()
    return out


def test_marts_after_faults_and_a_rerun_equal_a_clean_runs_marts(
    baseline: Baseline, workdir: Path, make_simulator, tmp_path: Path
):
    """Faults that fail a partition, quarantine, duplicate and add fields, then a clean rerun:
    dbt builds the same contract marts as from a warehouse that never saw a fault."""
    server = make_simulator(**SIM)
    server.faults.add("status", match=rf"user-teams-1-day/{D1}", times=None, status=503)
    for kind in ("malformed_line", "repeated_records", "unknown_fields"):
        server.faults.add(kind, match=TARGET)
    with make_client(server, []) as client:
        receipts, summary = run(client, workdir)
        assert [r["report"] for r in receipts if r["status"] == "failed"] == ["user-teams-1-day"]
        assert summary["totals"]["quarantined"] > 0 and summary["totals"]["duplicates"] > 0
        server.faults.clear()
        run(client, workdir)
    assert raw_content(workdir / WAREHOUSE_FILE) == raw_content(baseline.clean / WAREHOUSE_FILE)
    clean = tmp_path / "clean"
    shutil.copytree(baseline.clean, clean)
    expected = build_marts(clean / WAREHOUSE_FILE, tmp_path / "target-clean")
    assert build_marts(workdir / WAREHOUSE_FILE, tmp_path / "target-faulted") == expected
