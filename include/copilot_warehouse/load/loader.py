"""Load landed partitions into the ``raw`` schema: one DuckDB transaction per (scope, report, day).

DuckDB reads the files itself (no Python loop per record): each NDJSON part is read as lines of
text (``read_csv`` with one VARCHAR column, no quoting, NUL as delimiter, 16 MB lines allowed) and
every check is SQL (``json_valid``, ``json_type``, ``json_extract``). A part that is a JSON array
rather than NDJSON is expanded element by element (``read_json_objects(format='array')``).

A part is recognised by its content, never by its name. Plain NDJSON (LF or CRLF line endings,
with or without a final newline, blank lines, a UTF-8 byte-order mark) and JSON arrays (on one
line or pretty-printed) are read in place. The rarer shapes are rewritten as NDJSON in a temp
folder first: JSON spread over lines (an
aggregate day or the 28-day ``{"report_start_day", ..., "day_totals": [...]}`` wrapper written
with ``indent``, several pretty-printed objects) is split into one line per record. ``_line`` is
the line number in an NDJSON part and the record's position in a JSON array or document. A part
cut short loads its whole records and quarantines the cut one, saying so; an empty part is read
as no records.

Compressed parts (zstd, magic bytes ``28 b5 2f fd``, or gzip, ``1f 8b``, whatever the file name)
are read by DuckDB itself (``read_csv(..., compression = 'zstd' | 'gzip')``), without a
decompressed copy: one streaming pass in Python that discards what it decompresses first counts
the lines and checks the data (a content checksum, an end that is not cut short). Only a part
with a fault there (cut short, corrupt, bytes after the compressed data), a NUL byte or bytes that
are not UTF-8, or a shape other than NDJSON is decompressed to a temp file and read as above; a
fault is quarantined with a note and what decompressed before it loads.

In one transaction the loader:

1. deletes the partition's rows from its raw table (``warehouse.REPORT_TABLES``) and its
   previous quarantine rows;
2. inserts every valid record untouched, with its keys and load metadata;
3. keeps the first of records repeated on the table's key (across parts too) and counts the rest;
4. writes every bad line to ``raw.quarantine`` with the reason and the raw line: malformed or
   truncated JSON, a value that is not an object, a missing or non-integer key column, a record
   for another day, a non-numeric or negative counter, a byte sequence that is not UTF-8;
5. records every top-level key in ``raw.schema_keys`` (first and last day seen);
6. appends the outcome to ``raw.ingest_log``.

Any error rolls the transaction back, so what was loaded before stays untouched, and the error
names the scope, report and day.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from copilot_warehouse import config, redact, warehouse
from copilot_warehouse.config import Scope
from copilot_warehouse.land import zone

log = redact.get_logger(__name__)

SOURCE_REPORTS = "usage_metrics"
SOURCE_SEATS = "seats_api"
SOURCE_LEGACY = "legacy_metrics"

SNAPSHOT_REPORT = "billing"  # landing folder of the seats/billing snapshots
BILLING_FILE = "billing.json"
SEATS_FILE = "seats.ndjson"
SEAT_TOTALS_FILE = "seats_total.json"

MAX_LINE_BYTES = 16 * 1024 * 1024  # 10 MB user lines are known; larger fails the load, loudly
ENV_MEMORY_LIMIT = "COPILOT_LOADER_MEMORY_LIMIT"  # DuckDB memory_limit while loading ('' = none)
DEFAULT_MEMORY_LIMIT = "1GB"
CAP_FROM_BYTES = 64 * 1024 * 1024  # partitions smaller than this load without touching the limit
BULK_CHECKPOINT_THRESHOLD = "256MB"  # DuckDB checkpoint_threshold while loading many partitions

# Top-level counters that must be non-negative numbers when present (null or absent is fine).
COUNTER_FIELDS: tuple[str, ...] = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
    "chat_panel_agent_mode",
    "chat_panel_ask_mode",
    "chat_panel_custom_mode",
    "chat_panel_edit_mode",
    "chat_panel_plan_mode",
    "chat_panel_unknown_mode",
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
)
# Where a repository's identity may sit in a repos-1-day record: ids first, then names.
REPO_KEY_PATHS: tuple[str, ...] = (
    "$.repository_id",
    "$.repo_id",
    "$.repository.id",
    "$.id",
    "$.repository_full_name",
    "$.repository_name",
    "$.repository.full_name",
    "$.repository.name",
    "$.full_name",
    "$.name",
)
_NUMERIC_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE')"
# Counter values as json_extract writes them, joined by commas: each a number starting with a
# digit (not negative) or null.
_COUNTERS_OK = r"(?:(?:[0-9][^,]*|null)(?:,(?:[0-9][^,]*|null))*)?"


class LoadError(RuntimeError):
    """A partition could not be loaded; nothing of it was written (the transaction rolled back)."""


@dataclass(frozen=True)
class LoadResult:
    """Outcome of loading one partition.

    Attributes:
        records: rows now in the raw table for the partition (after dedupe).
        quarantined: bad lines written to ``raw.quarantine``.
        duplicates: records dropped because an earlier line had the same key.
        parts: files read.
        status: ``loaded`` or ``no_report`` (a 204 manifest: existing rows are kept).
    """

    records: int
    quarantined: int
    duplicates: int
    parts: int
    status: str = "loaded"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _q(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _now() -> datetime:
    return datetime.now(UTC)


def _label(scope: Scope, report: str, day: date) -> str:
    return f"{scope.label} {report} {day.isoformat()}"


# --- reading parts -------------------------------------------------------------------------------
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SNIFF_BYTES = 65536
_LEADING = b" \t\r\n\xef\xbb\xbf"  # whitespace and the UTF-8 byte-order mark
_INFLATE_MAX = 16 << 20  # decompressed bytes held at once when a compressed part is decompressed
# A zstd block of 4 input bytes (an RLE block) may expand to 128 KB (2**17): feeding the decoder
# _INFLATE_MAX >> 15 input bytes at a time bounds what one step returns to _INFLATE_MAX.
_ZSTD_RATIO_MAX_LOG = 15
_READ_CHARS = 1 << 20  # text read at a time when a JSON document is split into records
_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()
# What a JSON text cut at its end may stop on: part of a number, of true/false/null, of an escape.
_CUT_TOKEN = re.compile(r"[-+.eE0-9]+|t(?:ru?)?|f(?:a(?:ls?)?)?|n(?:ul?)?|\\?u[0-9a-fA-F]{0,3}|\\")
_CUT_LINE = "malformed JSON: the part ends mid-record (its last line is cut short, with no final newline)"


def _sniff(path: Path) -> str:
    """How a part is written, from its first bytes.

    Returns:
        ``empty`` (nothing but whitespace or a byte-order mark), ``gzip`` (magic bytes ``1f 8b``,
        whatever the file name), ``zstd`` (magic bytes ``28 b5 2f fd``), ``array`` (first
        character ``[``), ``document`` (a JSON object spread over several lines: the first line
        starts with ``{`` and does not end with ``}``), else ``lines`` (NDJSON, the common case).
    """
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
        if head[:2] == GZIP_MAGIC:
            return "gzip"
        if head[:4] == ZSTD_MAGIC:
            return "zstd"
        text = head.lstrip(_LEADING)
        while not text:
            head = fh.read(_SNIFF_BYTES)
            if not head:
                return "empty"
            text = head.lstrip(_LEADING)
    return _shape(text)


def _shape(text: bytes) -> str:
    """``array``, ``document`` or ``lines`` from a part's first bytes, leading whitespace stripped."""
    if text[:1] == b"[":
        return "array"
    end = text.find(b"\n")
    if text[:1] == b"{" and end >= 0 and not text[:end].rstrip(b" \t\r").endswith(b"}"):
        return "document"
    return "lines"


def _lines_sql(path: Path, compression: str = "none") -> str:
    return (
        f"read_csv({_q(str(path))}, columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(0), "
        f"quote = '', escape = '', new_line = '\\r\\n', strict_mode = false, auto_detect = false, "
        f"compression = '{compression}', max_line_size = {MAX_LINE_BYTES})"
    )


def _array_sql(path: Path) -> str:
    return (
        f"read_json_objects({_q(str(path))}, format = 'array', compression = 'none', "
        f"maximum_object_size = {MAX_LINE_BYTES})"
    )


@dataclass
class _Source:
    """One part as DuckDB will read it, plus lines quarantined before SQL (file-level faults)."""

    index: int
    relpath: str
    sql: str | None  # select _pidx, _part, _line, _cut, line
    pre_quarantine: list[tuple[str, int | None, str, str | None]]  # (part, line, reason, raw)
    lines: int | None = None  # lines in an NDJSON part (None: unknown, e.g. a JSON array)


def _prepare_sources(
    con: Any,
    files: list[tuple[str, Path]],
    tmpdir: Callable[[], Path],
    sanitize: frozenset[Path] = frozenset(),
) -> list[_Source]:
    """Decide how each part is read.

    Plain NDJSON (LF or CRLF, with or without a final newline, blank lines, a byte-order mark) is
    read in place by DuckDB, and so is a JSON array. A zstd or gzip part is checked and counted by
    one streaming pass that keeps nothing (:func:`_scan_compressed`); DuckDB then decompresses it
    itself. Only when that pass finds a fault, a NUL byte or a shape other than NDJSON (or the part
    is in ``sanitize``) is it decompressed to a temp file and read like any part. Other shapes are
    first rewritten as NDJSON in a temp folder: a JSON document spread
    over lines (pretty-printed objects, the 28-day wrapper) and a JSON array DuckDB cannot read are
    split into one line per record. ``_line`` is then the record's position in the part.

    Faults found before SQL are quarantined with the part's name: compressed data cut short or
    corrupt (what decompressed loads), a document cut mid-record (the whole records before it load) and a
    JSON array that does not parse (quarantined whole). Invalid UTF-8 makes ``read_csv`` reject a
    whole file; the load then rolls back and is retried with the files in ``sanitize`` copied with
    their bad lines blanked out (keeping line numbers) and those lines quarantined. A file holding
    a NUL byte (the column delimiter, never valid in JSON text) is treated the same way from the
    start.
    """
    sources = []
    for index, (rel, landed) in enumerate(files, start=1):
        path = landed
        pre: list[tuple[str, int | None, str, str | None]] = []
        kind = _sniff(path)
        if kind in _COMPRESSED:
            scan = _scan_compressed(landed, kind)
            if _direct(scan) and landed not in sanitize:
                sql = None
                if scan.shape != "empty":
                    sql = (
                        f"select {index} as _pidx, {_q(rel)} as _part, row_number() over () as _line, "
                        f"{scan.lines if scan.ends_open else 'null'}::bigint as _cut, line from "
                        + _lines_sql(landed, kind)
                    )
                sources.append(_Source(index, rel, sql, pre, scan.lines if sql else None))
                continue
            path = tmpdir() / f"{_COMPRESSED[kind]}-{index:04d}.ndjson"
            note = _decompress(landed, path, kind)
            if note:
                pre.append((rel, None, note, None))
            kind = _sniff(path)
        if kind == "empty":
            sources.append(_Source(index, rel, None, pre))
            continue
        if kind == "array" and _readable(con, _array_sql(path)):
            select = (
                f"select {index} as _pidx, {_q(rel)} as _part, row_number() over () as _line, "
                "null::bigint as _cut, json::varchar as line from "
            )
            sources.append(_Source(index, rel, select + _array_sql(path), pre))
            continue
        if kind in ("array", "document"):
            split = _split_json(path, tmpdir() / f"split-{index:04d}.ndjson")
            if split.error is None or split.cut:
                pre.extend(split.quarantine(rel))
                path = split.dest
                if not split.records:
                    sources.append(_Source(index, rel, None, pre))
                    continue
            elif kind == "array":
                raw = path.read_bytes()[:1_000_000].decode("utf-8", "replace")
                pre.append((rel, None, f"malformed JSON array file: {split.error}", raw))
                sources.append(_Source(index, rel, None, pre))
                continue
            # else: NDJSON whose first line is not whole JSON; read it line by line
        lines, has_nul, ends_open = _scan(path)
        sql = _lines_sql(path)
        if landed in sanitize or has_nul:
            clean = tmpdir() / f"clean-{index:04d}.ndjson"
            pre.extend(_blank_bad_lines(path, clean, rel))
            sql = _lines_sql(clean)
        select = (
            f"select {index} as _pidx, {_q(rel)} as _part, row_number() over () as _line, "
            f"{lines if ends_open else 'null'}::bigint as _cut, line from "
        )
        sources.append(_Source(index, rel, select + sql, pre, lines))
    return sources


def _readable(con: Any, sql: str) -> bool:
    """Whether DuckDB reads a table function through (a JSON array that parses)."""
    try:
        con.execute(f"select count(*) from {sql}").fetchall()
    except Exception:  # noqa: BLE001 - duckdb.Error subclasses: the part is read record by record
        return False
    return True


def _scan(path: Path) -> tuple[int, bool, bool]:
    """Lines in a file as ``read_csv`` sees them (a last line without a newline counts), whether
    it holds a NUL byte (the column delimiter: such a line would be cut short), and whether its
    last line has no final newline."""
    count, last, nul = 0, b"\n", False
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b"\n")
            nul = nul or b"\x00" in chunk
            last = chunk[-1:]
    return count + (last != b"\n"), nul, last != b"\n"


def _blank_bad_lines(src: Path, dest: Path, rel: str) -> list[tuple[str, int | None, str, str | None]]:
    """Copy ``src`` to ``dest`` with lines that are not UTF-8 or hold a NUL byte replaced by
    empty lines (line numbers stay), returning those lines for the quarantine."""
    bad = []
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        for number, raw in enumerate(fin, start=1):
            reason = "line holds a NUL byte" if b"\x00" in raw else None
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                reason = "line is not valid UTF-8"
            if reason:
                text = raw.rstrip(b"\r\n").decode("utf-8", "replace").replace("\x00", "\\u0000")
                bad.append((rel, number, reason, text))
                fout.write(b"\n")
            else:
                fout.write(raw)
    return bad


@dataclass
class _Inflated:
    """What a streaming decompression found, filled in as it goes.

    Attributes:
        written: decompressed bytes so far.
        note: None, or a note for the quarantine when the data is cut short or corrupt or has
            bytes after it: what decompressed before the fault loads, the records after it are
            missing.
        exact: False when the file has anything after its compressed data (even NUL padding):
            DuckDB's own decompression would then fail, so the part is read from a copy.
        lines, nul, ends_open: as :func:`_scan` gives them, for what decompressed.
        shape: ``empty``, ``array``, ``document`` or ``lines``, as :func:`_sniff` would say of the
            decompressed bytes (None until known).
    """

    written: int = 0
    note: str | None = None
    exact: bool = True
    lines: int = 0
    nul: bool = False
    ends_open: bool = False
    shape: str | None = None


def _gzip_chunks(fin: Any, st: _Inflated) -> Iterator[bytes]:
    """Decompress a gzip file (every member of it), at most ``_INFLATE_MAX`` bytes a step."""
    inflate = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
    pending = b""
    try:
        while chunk := pending or fin.read(1 << 20):
            pending = b""
            if inflate.eof:  # one member ended: another member, or padding after the data
                chunk += fin.read(max(0, 2 - len(chunk)))
                if chunk[:2] != GZIP_MAGIC:
                    st.exact = False
                    trailing = len(chunk.strip(b"\x00"))
                    while more := fin.read(1 << 20):
                        trailing += len(more.strip(b"\x00"))
                    if trailing:
                        st.note = f"gzip part has {trailing:,} bytes after its gzip data; they were ignored"
                    return
                inflate = zlib.decompressobj(wbits=31)
            out = inflate.decompress(chunk, _INFLATE_MAX)
            st.written += len(out)
            yield out
            # Bounded output per call: landed NDJSON inflates ~20x, a hostile part far more.
            while inflate.unconsumed_tail and not inflate.eof:
                out = inflate.decompress(inflate.unconsumed_tail, _INFLATE_MAX)
                st.written += len(out)
                yield out
            if inflate.eof:
                pending = inflate.unused_data
    except zlib.error as exc:
        st.note = (
            f"gzip data is corrupt after {st.written:,} decompressed bytes ({exc}); "
            "the records after that point are missing"
        )
        return
    if not inflate.eof:
        out = inflate.flush()
        st.written += len(out)
        yield out
        st.note = (
            f"gzip data ends early after {st.written:,} decompressed bytes (the part is "
            "cut short); the records after that point are missing"
        )


def _zstd_chunks(fin: Any, st: _Inflated) -> Iterator[bytes]:
    """Decompress a zstd file (every frame of it), at most ``_INFLATE_MAX`` bytes a step.

    Frames are checked as they end (their content checksum when they carry one); a frame that
    never ends is data cut short, which zstandard's stream reader would not report.
    """
    import zstandard

    step = max(1, _INFLATE_MAX >> _ZSTD_RATIO_MAX_LOG)
    dctx = zstandard.ZstdDecompressor()
    buf, frame = b"", None
    try:
        while True:
            if not buf:
                buf = fin.read(1 << 20)
                if not buf:
                    break
            if frame is None:  # a frame starts here, or bytes after the last frame
                if len(buf) < len(ZSTD_MAGIC):
                    buf += fin.read(len(ZSTD_MAGIC) - len(buf))
                if buf[: len(ZSTD_MAGIC)] != ZSTD_MAGIC:
                    st.exact = False
                    trailing = len(buf.strip(b"\x00"))
                    while more := fin.read(1 << 20):
                        trailing += len(more.strip(b"\x00"))
                    if trailing:
                        st.note = f"zstd part has {trailing:,} bytes after its zstd data; they were ignored"
                    return
                frame = dctx.decompressobj()
            view, pos = memoryview(buf), 0
            while pos < len(buf) and not frame.eof:
                out = frame.decompress(view[pos : pos + step])
                pos += step
                if out:
                    st.written += len(out)
                    yield out
            if frame.eof:  # the frame ended inside buf: what follows it starts the next one
                buf, frame = frame.unused_data + bytes(view[pos:]), None
            else:
                buf = b""
    except zstandard.ZstdError as exc:
        st.note = (
            f"zstd data is corrupt after {st.written:,} decompressed bytes ({exc}); "
            "the records after that point are missing"
        )
        return
    if frame is not None:
        st.note = (
            f"zstd data ends early after {st.written:,} decompressed bytes (the part is "
            "cut short); the records after that point are missing"
        )


_COMPRESSED = {"gzip": "gunzip", "zstd": "unzstd"}  # format -> prefix of its decompressed copy
_CHUNKS = {"gzip": _gzip_chunks, "zstd": _zstd_chunks}


def _scan_compressed(path: Path, kind: str) -> _Inflated:
    """One streaming pass over a compressed part that keeps nothing: :func:`_scan` and
    :func:`_sniff` of its content, and any fault in the compressed data."""
    st = _Inflated()
    count, last, head = 0, b"\n", b""
    with open(path, "rb") as fin:
        for out in _CHUNKS[kind](fin, st):
            if not out:
                continue
            count += out.count(b"\n")
            st.nul = st.nul or b"\x00" in out
            last = out[-1:]
            if st.shape is None:  # _sniff reads 64 KB blocks until one is not all whitespace
                head += out
                while st.shape is None and len(head) >= _SNIFF_BYTES:
                    if text := head[:_SNIFF_BYTES].lstrip(_LEADING):
                        st.shape = _shape(text)
                    head = head[_SNIFF_BYTES:]
                if st.shape is not None:
                    head = b""
    if st.shape is None:
        text = head.lstrip(_LEADING)
        st.shape = _shape(text) if text else "empty"
    st.lines, st.ends_open = count + (last != b"\n"), last != b"\n"
    return st


def _direct(scan: _Inflated) -> bool:
    """Whether DuckDB can read a compressed part itself: sound data, NDJSON (or nothing), no NUL."""
    return scan.note is None and scan.exact and not scan.nul and scan.shape in ("lines", "empty")


def _decompress(src: Path, dest: Path, kind: str) -> str | None:
    """Decompress a gzip or zstd part to ``dest`` (every member or frame of it).

    Returns:
        None, or a note for the quarantine when the data is cut short or corrupt: what
        decompressed before the fault is in ``dest`` and loads like any part (a record cut in
        half is then quarantined as its last line), the records after it are missing.
    """
    st = _Inflated()
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        for out in _CHUNKS[kind](fin, st):
            fout.write(out)
    return st.note


@dataclass
class _Split:
    """A JSON document rewritten as NDJSON by :func:`_split_json`.

    Attributes:
        dest: the NDJSON file, one line per record.
        records: records written.
        error: None when the whole document parsed, else what is wrong and where.
        cut: the document ends inside record ``records + 1`` (the part ends mid-record).
        tail: the text of the cut record, to the end of the part.
    """

    dest: Path
    records: int
    error: str | None = None
    cut: bool = False
    tail: str | None = None

    def quarantine(self, rel: str) -> list[tuple[str, int | None, str, str | None]]:
        """The cut record as a quarantine row (position ``records + 1``), if there is one."""
        if not self.cut:
            return []
        return [(rel, self.records + 1, f"malformed JSON: {self.error}", self.tail)]


class _DocumentError(Exception):
    def __init__(self, message: str, cut: bool, tail: str | None = None) -> None:
        super().__init__(message)
        self.cut, self.tail = cut, tail


class _JsonValues:
    """The top-level JSON values of a text file, one at a time, and each element of a top-level
    array on its own. The file is read a block at a time, so memory holds about one record;
    a value still open at the end of the buffer reads the next block (doubling) and retries.

    Raises (from iteration):
        _DocumentError: the text is not JSON from some record on (``cut`` when it ends inside one).
    """

    def __init__(self, fh: Any) -> None:
        self.fh, self.buf, self.pos, self.eof = fh, "", 0, False
        self.lines_before = 0  # newlines in the text dropped from the front of the buffer
        self.record = 0

    def _more(self) -> bool:
        """Append the next block (at least as long as the unread text); False at the end."""
        if self.eof:
            return False
        try:
            chunk = self.fh.read(max(_READ_CHARS, len(self.buf) - self.pos))
        except UnicodeDecodeError as exc:
            message = f"the text is not valid UTF-8 after line {self._line(len(self.buf))} ({exc.reason})"
            raise _DocumentError(message, False) from None
        if not chunk:
            self.eof = True
            return False
        if self.pos >= _READ_CHARS:  # drop what was read (positions in self.buf move)
            self.lines_before += self.buf.count("\n", 0, self.pos)
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += chunk
        return True

    def _line(self, pos: int) -> int:
        """Line number in the file of position ``pos`` of the buffer."""
        return self.lines_before + self.buf.count("\n", 0, pos) + 1

    def _where(self, pos: int) -> str:
        column = pos - self.buf.rfind("\n", 0, pos)
        return f"line {self._line(pos)} column {column}"

    def _error(self, message: str, pos: int, *, cut: bool) -> _DocumentError:
        if not cut:
            return _DocumentError(f"record {self.record} at {self._where(pos)}: {message}", False)
        start = f"line {self._line(self.pos)}"
        if self.pos < len(self.buf):
            message = (
                f"the part ends mid-record (record {self.record}, from {start} of the file, is cut short)"
            )
        else:  # nothing of the record: the text ends between records of an open array
            after = f"after record {self.record - 1} " if self.record > 1 else ""
            message = f"{message} at {start} (records {after}may be missing)"
        return _DocumentError(message, True, self.buf[self.pos :] or None)

    def _next_char(self) -> str:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _incomplete(self, exc: json.JSONDecodeError) -> bool:
        """The error may only mean the text stops there (a cut record, or the end of a block)."""
        return exc.msg.startswith("Unterminated string") or len(self.buf) - exc.pos <= 16

    def _ends_inside(self, exc: json.JSONDecodeError) -> bool:
        """At the end of the text: the error is only that the text stops (a prefix of valid JSON)."""
        rest = self.buf[exc.pos :].strip()
        return exc.msg.startswith("Unterminated string") or not rest or bool(_CUT_TOKEN.fullmatch(rest))

    def _value(self) -> str:
        while True:
            try:
                _, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._incomplete(exc) and self._more():
                    continue
                raise self._error(exc.msg, exc.pos, cut=self._ends_inside(exc)) from None
            if end == len(self.buf) and self._more():  # a number may go on in the next block
                continue
            text = self.buf[self.pos : end]
            self.pos = end
            return text

    def __iter__(self) -> Iterator[str]:
        state = "top"  # top level | "first" after '[' | "after" an element | "next" after ','
        while True:
            char = self._next_char()
            if not char:
                if state == "top":
                    return
                self.record += 1
                if state == "after":
                    raise self._error("the part ends before its JSON array is closed", self.pos, cut=True)
                raise self._error("the array is not closed", self.pos, cut=True)
            if state in ("first", "after") and char == "]":
                state = "top"
            elif state == "after":
                if char != ",":
                    self.record += 1
                    raise self._error("expected ',' or ']' after an array element", self.pos, cut=False)
                state = "next"
            elif state == "top" and char == "[":
                state = "first"
            else:
                self.record += 1
                yield self._value()
                state = "top" if state == "top" else "after"
                continue
            self.pos += 1


def _split_json(src: Path, dest: Path) -> _Split:
    """Rewrite a JSON document (any whitespace, top-level arrays expanded) as NDJSON in ``dest``.

    Each record keeps its text; its line breaks, which valid JSON holds only between tokens, become
    spaces. A document that is cut short keeps the records before the cut.
    """
    records = 0
    with (
        open(src, encoding="utf-8-sig", newline="") as fin,
        open(dest, "w", encoding="utf-8", newline="\n") as fout,
    ):
        try:
            for text in _JsonValues(fin):
                fout.write(text.replace("\r", " ").replace("\n", " ") + "\n")
                records += 1
        except _DocumentError as exc:
            return _Split(dest, records, str(exc), exc.cut, exc.tail)
    return _Split(dest, records)


# --- SQL for one report --------------------------------------------------------------------------
@dataclass(frozen=True)
class _ReportSpec:
    table: str
    key_columns: tuple[str, ...]
    paths: tuple[str, ...]  # json paths extracted once per line into the list _x
    reasons: tuple[tuple[str, str], ...]  # (condition, reason expression), first match wins
    key_exprs: tuple[tuple[str, str], ...]  # (column, expression)
    checks: tuple[tuple[str, str], ...] = ()  # (name, expression over _x) computed before reasons
    # Cheap conditions (string tests on _x and the line, no JSON parsing) that together imply
    # that no reason applies: a line meeting them all is valid without evaluating the reasons,
    # which are then computed only for the few lines that miss one.
    fast: tuple[str, ...] = ()


def _spec(report: str, day: date) -> _ReportSpec:
    if report not in warehouse.REPORT_TABLES:
        raise LoadError(f"unknown report {report!r}: expected one of {sorted(warehouse.REPORT_TABLES)}")
    table, keys = warehouse.REPORT_TABLES[report]
    paths: list[str] = []

    def x(path: str) -> str:
        if path not in paths:
            paths.append(path)
        return f"_x[{paths.index(path) + 1}]"

    def present(path: str) -> str:
        return f"({x(path)} is not null and json_type({x(path)}) <> 'NULL')"

    def as_bigint(path: str) -> str:
        return f"try_cast({x(path)} ->> '$' as bigint)"

    reasons: list[tuple[str, str]] = []
    key_exprs: list[tuple[str, str]] = []
    checks: list[tuple[str, str]] = []
    fast: list[str] = []
    is_28 = report.endswith("-28-day")
    for column in ("user_id", "team_id"):
        if column in keys:  # computed once, before the reasons: a key and a check
            checks.append((column, as_bigint("$." + column)))
            key_exprs.append((column, column))
            reasons.append((f"{column} is null", f"'missing or non-integer {column}'"))
            fast.append(f"{column} is not null")
        elif report == "users-28-day" and column == "user_id":
            reasons.append((f"{as_bigint('$.' + column)} is null", f"'missing or non-integer {column}'"))
            fast.append(f"{as_bigint('$.' + column)} is not null")
    if "repo_key" in keys:
        # The first candidate that is an integer or a string, as one list expression computed
        # once (a coalesce of one CASE per candidate, written out twice, took ~4 ms of planning
        # per partition).
        first = len(paths) + 1
        paths += REPO_KEY_PATHS
        window = f"_x[{first}:{first + len(REPO_KEY_PATHS) - 1}]"
        usable = "json_type(v) in ('UBIGINT', 'BIGINT', 'VARCHAR')"
        checks.append(("_repo_key", f"nullif([v ->> '$' for v in {window} if {usable}][1], '')"))
        reasons.append(("_repo_key is null", "'missing repository id or name'"))
        fast.append("_repo_key is not null")
        key_exprs.append(("repo_key", "_repo_key"))
    day_expr = f"({x('$.day')} ->> '$')"
    if is_28:
        start = f"try_cast({x('$.report_start_day')} ->> '$' as date)"
        end = f"try_cast({x('$.report_end_day')} ->> '$' as date)"
        key_exprs += [("report_start_day", start), ("report_end_day", end)]
        if report == "users-28-day":
            reasons.append((f"try_cast({day_expr} as date) is null", "'missing or invalid day'"))
            fast.append(f"try_cast({day_expr} as date) is not null")
            key_exprs.append(("line_key", f"{as_bigint('$.user_id')}::varchar || '|' || {day_expr}"))
        else:
            key_exprs.append(("line_key", "'totals'"))
    else:
        reasons.append(
            (
                f"{present('$.day')} and {day_expr} is distinct from {_q(day.isoformat())}",
                f"'record is for day ' || {day_expr} || ', not the report day {day.isoformat()}'",
            )
        )
        # json_extract writes a string value back in its plain form: "YYYY-MM-DD" is that day.
        fast.append(f"{x('$.day')}::varchar = {_q(json.dumps(day.isoformat()))}")
    # Counters are checked with one list expression each (not one CASE branch per counter, which
    # costs ~2 ms of query planning per counter for every partition). Both are evaluated only for
    # lines that miss the fast test below.
    first = len(paths) + 1
    paths += ["$." + name for name in COUNTER_FIELDS]
    names = "[" + ", ".join(_q(name) for name in COUNTER_FIELDS) + "]"
    window = f"_x[{first}:{first + len(COUNTER_FIELDS) - 1}]"
    bad_type = (
        f"list_position([coalesce(json_type(v), 'NULL') not in ('NULL', {_NUMERIC_TYPES[1:-1]}) "
        f"for v in {window}], true)"
    )
    bad_sign = f"list_position([coalesce(try_cast(v as double) < 0, false) for v in {window}], true)"
    reasons.append(
        (
            f"{bad_type} is not null",
            f"'counter ' || {names}[{bad_type}] || ' is not a number: ' "
            f"|| left(_x[{first - 1} + {bad_type}]::varchar, 100)",
        )
    )
    reasons.append(
        (
            f"{bad_sign} is not null",
            f"'counter ' || {names}[{bad_sign}] || ' is negative: ' || _x[{first - 1} + {bad_sign}]::varchar",
        )
    )
    # Fast: every counter present is written by json_extract as a number starting with a digit
    # (so numeric and not negative) or as null; absent ones are dropped by array_to_string.
    # No JSON value written by json_extract is empty, and a comma inside a string or a nested
    # value leaves a piece starting with '"', '{' or '[', so the pieces are exactly the values.
    fast.append(f"regexp_full_match(array_to_string({window}, ','), {_q(_COUNTERS_OK)})")
    return _ReportSpec(
        table, keys, tuple(paths), tuple(reasons), tuple(key_exprs), tuple(checks), tuple(fast)
    )


def _source_sql(sources: list[_Source]) -> str:
    return "\nunion all\n".join(s.sql for s in sources if s.sql)


def _classified_sql(spec: _ReportSpec, source_sql: str) -> str:
    """One row per non-blank line: part, line number, text, reason (null when valid), keys.

    ``_cut`` is the number of a part's last line when the part has no final newline: that line,
    if it is not JSON, is a record cut short by the end of the part (said so in its reason).
    Each line is parsed once: ``try(json_extract(line, [paths]))`` is null exactly when the line
    is not JSON; a JSON value is an object when its first character is ``{``. A line that passes
    ``spec.fast`` (string tests on what was extracted) is valid without computing the reasons,
    which are evaluated (CASE branches run on the rows that reach them) only for the others.
    """
    path_list = "[" + ", ".join(_q(p) for p in spec.paths) + "]"
    whens = "\n".join(f"            when {cond} then {reason}" for cond, reason in spec.reasons)
    keys = "".join(f",\n    {expr} as {col}" for col, expr in spec.key_exprs)
    blank = "trim(line, ' ' || chr(9) || chr(13)) = ''"
    checks = "".join(f",\n        {expr} as {name}" for name, expr in spec.checks)
    fast = "".join(f"\n                and {cond}" for cond in spec.fast)
    return f"""
select _pidx, _part, _line, line, _reason{keys}
from (
    select *,
        case
            when _x is not null and starts_with(line, '{{'){fast}
                then null
            when _x is null and {blank} then 'blank'
            when _x is null and _line = _cut then {_q(_CUT_LINE)}
            when _x is null then 'malformed JSON (invalid or truncated line)'
            when left(ltrim(line, ' ' || chr(9) || chr(13) || chr(65279)), 1) <> '{{'
                then 'not a JSON object: a JSON ' || lower(coalesce(try(json_type(line)), 'value'))
{whens}
        end as _reason
    from (
        select *{checks}
        from (
            select _pidx, _part, _line, _cut, line, try(json_extract(line, {path_list})) as _x
            from ({source_sql})
            where line is not null
        )
    )
)
"""


# --- public API ----------------------------------------------------------------------------------
def load_partition(
    con: Any,
    scope: Scope,
    report: str,
    day: date | str,
    landing_root: str | os.PathLike[str],
    load_id: str,
    *,
    retries: int = 0,
    started_at: datetime | None = None,
) -> LoadResult:
    """Load one landed partition into its raw table, replacing what was there, in one transaction.

    Args:
        con: open, writable DuckDB connection (``warehouse.connect``), not inside a transaction.
        scope: the organization or enterprise.
        report: report name, a key of ``warehouse.REPORT_TABLES``.
        day: the report day (for 28-day reports, the report end day it was landed under).
        landing_root: landing zone root (path or fsspec URL).
        load_id: identifier stamped on every row written.
        retries: retries the fetch needed (recorded in ``raw.ingest_log``).
        started_at: when the fetch started (recorded in ``raw.ingest_log``).

    Returns:
        A :class:`LoadResult`.

    Raises:
        LoadError: the partition is not landed, unreadable, or the load failed; nothing of it was
            written and the rows loaded earlier are untouched.
    """
    day = config.parse_day(day)
    label = _label(scope, report, day)
    spec = _spec(report, day)
    for attempt in range(2):
        try:
            with (
                zone.open_partition(landing_root, scope, report, day) as opened,
                _memory_cap(con, _ndjson_bytes(opened.manifest)),
            ):
                result = _load_opened(
                    con,
                    scope,
                    report,
                    day,
                    landing_root,
                    load_id,
                    spec,
                    opened,
                    retries=retries,
                    started_at=started_at,
                )
        except _PartitionChanged:
            if attempt == 0:
                log.info("%s: the landed partition changed while loading; loading it again", label)
                continue
            raise LoadError(f"{label}: the landed partition kept changing while loading it") from None
        except zone.LandingError as exc:
            raise LoadError(redact.redact(str(exc))) from None
        except LoadError:
            raise
        except Exception as exc:
            raise LoadError(f"{label}: load failed and was rolled back: {_brief(exc)}") from exc
        log.info(
            "%s: %s, %d records, %d quarantined, %d duplicates from %d parts",
            label,
            result.status,
            result.records,
            result.quarantined,
            result.duplicates,
            result.parts,
        )
        return result
    raise AssertionError("unreachable")


_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def _bytes(text: str) -> float | None:
    """``'1.5 GiB'`` / ``'768MB'`` -> bytes (None when unreadable)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2).lower() not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _ndjson_bytes(manifest: dict[str, Any]) -> int:
    """NDJSON bytes of a landed partition: a compressed part counts what it decompresses to
    (``uncompressed_bytes``), else its stored ``bytes`` (a 360 MB day lands as ~13 MB of zstd)."""
    return sum(p.get("uncompressed_bytes") or p.get("bytes", 0) for p in manifest.get("parts", []))


@contextlib.contextmanager
def _memory_cap(con: Any, nbytes: int) -> Iterator[None]:
    """Lower DuckDB's ``memory_limit`` to ``COPILOT_LOADER_MEMORY_LIMIT`` while loading.

    Inserted rows stay in memory until a row group (122,880 rows) is full, which for multi-KB
    records is hundreds of MB; a limit makes DuckDB spill them to its temp directory instead.
    A lower limit set by the caller is kept; the previous value is restored afterwards.

    The commit appends the rows to the write-ahead log; the checkpoint that writes them into the
    database file comes later (the next large commit, or when the connection closes), outside
    this cap. Lowering ``checkpoint_threshold`` here makes the commit checkpoint instead (no log
    write, less work in total, the checkpoint inside the cap) but moves that work into the load
    (measured +0.3 s on a 50,000-user day) and did not flatten the peak at a 1GB cap: not done.
    """
    cap = os.environ.get(ENV_MEMORY_LIMIT, DEFAULT_MEMORY_LIMIT).strip()
    if nbytes < CAP_FROM_BYTES or not cap:  # small partitions cannot reach the limit
        yield
        return
    with _lowered(con, "memory_limit", cap):
        yield


@contextlib.contextmanager
def _lowered(con: Any, name: str, value: str) -> Iterator[None]:
    """Set a size setting to ``value`` unless it is already lower; restore it afterwards."""
    try:
        current = con.execute(f"select current_setting({_q(name)})").fetchall()[0][0]
    except Exception:  # noqa: BLE001 - a connection without the setting: leave it alone
        current = None
    target, current_bytes = _bytes(value), _bytes(current) if current else None
    if target is None or current_bytes is None or current_bytes <= target:
        yield
        return
    restore = _restore_setting(con, name, current)
    try:
        con.execute(f"set {name} = {_q(value)}")
        yield
    finally:
        con.execute(restore)


@contextlib.contextmanager
def bulk_load(con: Any) -> Iterator[None]:
    """Settings for one connection loading many partitions, restored afterwards (also on error).

    - Fewer checkpoints: by default DuckDB checkpoints whenever its write-ahead log passes 16 MB,
      i.e. every dozen small partitions, and each checkpoint rewrites the tables' open row
      groups: over a year of daily partitions that was a third of the load time. Raised to
      ``BULK_CHECKPOINT_THRESHOLD`` (unless the caller set it higher). Each partition is still
      committed on its own (the log is synced at every commit); only the checkpoints are fewer.
    - DuckDB's ``memory_limit`` lowered to ``COPILOT_LOADER_MEMORY_LIMIT`` for the whole run, not
      only while a large partition loads: between partitions DuckDB otherwise keeps up to 80% of
      RAM of buffers (a backfill of 20,000 users peaked at 1.2 GB with a 1 GB cap per partition).
    """
    with _memory_cap(con, CAP_FROM_BYTES), _fewer_checkpoints(con):
        yield


@contextlib.contextmanager
def _fewer_checkpoints(con: Any) -> Iterator[None]:
    """Raise ``checkpoint_threshold`` to ``BULK_CHECKPOINT_THRESHOLD`` for the duration."""
    try:
        current = con.execute("select current_setting('checkpoint_threshold')").fetchall()[0][0]
    except Exception:  # noqa: BLE001 - a connection without the setting: load as it is
        current = None
    target, current_bytes = _bytes(BULK_CHECKPOINT_THRESHOLD), _bytes(current) if current else None
    if target is None or current_bytes is None or current_bytes >= target:
        yield
        return
    restore = _restore_setting(con, "checkpoint_threshold", current)
    try:
        con.execute(f"set checkpoint_threshold = {_q(BULK_CHECKPOINT_THRESHOLD)}")
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # keep the error that stopped the load
            con.execute(restore)
        raise
    con.execute(restore)


def _restore_setting(con: Any, name: str, shown: str) -> str:
    """SQL that restores a size setting read back as text (``'18.8 GiB'``); call it just before
    changing the setting: it resets the setting to read the default.

    DuckDB shows sizes truncated to one decimal, so setting the shown text back would lower
    it a little on every load: the default is restored with ``reset``, another value with half a
    unit added (``'18.85 GiB'`` shows as ``'18.8 GiB'`` again). The default is read on this
    connection (a second connection to read it cost ~50 ms per process, 3% of a 50,000-user load).
    """
    con.execute(f"reset {name}")
    if shown == con.execute(f"select current_setting({_q(name)})").fetchall()[0][0]:
        return f"reset {name}"
    match = re.fullmatch(r"\s*([0-9]+\.[0-9]+)\s*([A-Za-z]+)\s*", shown)
    return f"set {name} = {_q(f'{match.group(1)}5 {match.group(2)}' if match else shown)}"


def _brief(exc: BaseException) -> str:
    """The gist of an error, without the data lines DuckDB quotes (they can be megabytes)."""
    text = redact.exception_text(exc)
    match = re.search(r"Maximum line size of (\d+) bytes exceeded", text)
    if match:
        return (
            f"a line is longer than {int(match.group(1)):,} bytes (loader.MAX_LINE_BYTES); "
            "raise it to load this partition"
        )
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("Original Line")]
    return " ".join(lines[:2])[:500]


class _PartitionChanged(Exception):
    """The partition was replaced in the landing zone while it was being loaded."""


def _load_opened(
    con: Any,
    scope: Scope,
    report: str,
    day: date,
    landing_root: str | os.PathLike[str],
    load_id: str,
    spec: _ReportSpec,
    opened: zone.OpenPartition,
    *,
    retries: int,
    started_at: datetime | None,
) -> LoadResult:
    manifest = opened.manifest
    http_status = manifest.get("http_status")
    if not opened.files and http_status == 204:
        record_status(
            con,
            scope,
            report,
            day,
            "no_report",
            204,
            "no report for this day (HTTP 204); rows loaded earlier are kept",
            load_id,
            retries=retries,
            started_at=started_at,
        )
        return LoadResult(0, 0, 0, 0, status="no_report")
    made: list[Path] = []

    def tmpdir() -> Path:  # created only when a part needs a sanitized copy (rarely)
        if not made:
            made.append(Path(tempfile.mkdtemp(prefix="copilot-load-")))
        return made[0]

    def write(sources):
        return _write(
            con,
            scope,
            report,
            day,
            landing_root,
            load_id,
            spec,
            opened,
            sources,
            http_status,
            retries,
            started_at,
        )

    try:
        try:
            return write(_prepare_sources(con, opened.files, tmpdir))
        except Exception as exc:  # duckdb.InvalidInputException on bytes that are not UTF-8
            if "unicode" not in str(exc).lower():
                raise
        log.info(
            "%s: a part is not valid UTF-8; loading again with those lines quarantined",
            _label(scope, report, day),
        )
        return write(_prepare_sources(con, opened.files, tmpdir, frozenset(p for _, p in opened.files)))
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


def _write(
    con: Any,
    scope: Scope,
    report: str,
    day: date,
    landing_root: str | os.PathLike[str],
    load_id: str,
    spec: _ReportSpec,
    opened: zone.OpenPartition,
    sources: list[_Source],
    http_status: int | None,
    retries: int,
    started_at: datetime | None,
) -> LoadResult:
    """The transaction: replace the partition's rows, quarantine, schema keys, ingest log."""
    pre_quarantine = [row for s in sources for row in s.pre_quarantine]
    source_sql = _source_sql(sources)
    part_key = (scope.type, scope.name, report, day)
    where = "scope_type = ? and scope_name = ? and report = ? and day = ?"
    key_cols = "".join(f", {c}" for c, _ in spec.key_exprs)
    con.begin()
    try:
        con.execute(f"delete from {spec.table} where {where}", part_key)
        con.execute(f"delete from raw.quarantine where {where}", part_key)
        inserted = quarantined = 0
        if source_sql:
            inserted = _count(
                con,
                f"""
                insert into {spec.table}
                    (scope_type, scope_name, report, day{key_cols},
                     record, _part, _line, _load_id, _loaded_at, _source)
                select ?, ?, ?, ?{key_cols},
                    line, _part, _line, ?, now(), {_q(SOURCE_REPORTS)}
                from ({_classified_sql(spec, source_sql)})
                where _reason is null
                """,
                (*part_key, load_id),
            )
        # Second pass, only when some lines were not inserted (bad or blank): those lines alone
        # are parsed again (an anti-join on their position).
        known = [src.lines for src in sources if src.sql]
        if None in known or sum(known) != inserted:
            remaining = f"""
                select s.* from ({source_sql}) s
                anti join (select _part, _line from {spec.table} where {where}) t
                    on s._part = t._part and s._line = t._line
            """
            quarantined += _count(
                con,
                f"""
                insert into raw.quarantine
                    (load_id, scope_type, scope_name, report, day, _part, _line, reason,
                     raw_line, quarantined_at)
                select ?, ?, ?, ?, ?, _part, _line, _reason, line, now()
                from ({_classified_sql(spec, remaining)})
                where _reason is not null and _reason <> 'blank'
                """,
                (load_id, *part_key, *part_key),
            )
        if pre_quarantine:
            con.executemany(
                """
                insert into raw.quarantine
                    (load_id, scope_type, scope_name, report, day, _part, _line, reason,
                     raw_line, quarantined_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())
                """,
                [(load_id, *part_key, *row) for row in pre_quarantine],
            )
            quarantined += len(pre_quarantine)
        duplicates = _dedupe(con, spec, where, part_key)
        records = inserted - duplicates
        _update_schema_keys(con, spec.table, where, part_key, report, day, load_id)
        message = f"{quarantined} lines quarantined" if quarantined else None
        _log(
            con,
            load_id,
            scope,
            report,
            day,
            http_status,
            "loaded",
            records,
            quarantined,
            duplicates,
            len(opened.files),
            retries,
            message,
            started_at,
        )
        if not opened.still_current(landing_root):
            raise _PartitionChanged()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return LoadResult(records, quarantined, duplicates, len(opened.files))


def _count(con: Any, sql: str, params: tuple = ()) -> int:
    """Rows an insert or delete statement wrote (DuckDB returns the count as its result)."""
    rows = con.execute(sql, params).fetchall()
    return int(rows[0][0]) if rows else 0


def _dedupe(con: Any, spec: _ReportSpec, where: str, part_key: tuple) -> int:
    """Delete records repeated on the table key, keeping the first (part order, line order).

    A grouped count finds whether any key repeats first: most partitions have no duplicates,
    and the check costs half of the windowed delete.
    """
    key = ", ".join(spec.key_columns) or "report"
    repeated = con.execute(
        f"select count(*) from (select 1 from {spec.table} where {where} group by {key} having count(*) > 1)",
        part_key,
    ).fetchall()
    if not repeated or not repeated[0][0]:
        return 0
    return _count(
        con,
        f"""
        delete from {spec.table} where rowid in (
            select rowid from {spec.table}
            where {where}
            qualify row_number() over (partition by {key} order by _part, _line) > 1
        )
        """,
        part_key,
    )


def _update_schema_keys(
    con: Any, table: str, where: str, part_key: tuple, report: str, day: date, load_id: str
) -> None:
    """Record the partition's top-level keys in ``raw.schema_keys`` (first and last day ever seen:
    reloading a partition with fewer keys does not narrow them).

    The partition's distinct keys are compared with the report's rows in ``raw.schema_keys``;
    only keys that are new or move their first or last day are written, with plain inserts and
    updates. (An upsert of every record's keys cost ~5 ms per partition, a sixth of a small
    partition's load.)
    """
    keys = {
        key
        for (key,) in con.execute(
            f"select distinct unnest(json_keys(record)) from {table} where {where}", part_key
        ).fetchall()
    }
    seen = {
        key: (first, last)
        for key, first, last in con.execute(
            "select key, first_day, last_day from raw.schema_keys where report = ?", (report,)
        ).fetchall()
    }
    new = sorted(key for key in keys if key not in seen)
    earlier = sorted(key for key in keys if key in seen and day < seen[key][0])
    later = sorted(key for key in keys if key in seen and day > seen[key][1])
    if new:
        con.execute(
            "insert into raw.schema_keys (report, key, first_day, last_day, first_load_id) "
            "select ?, unnest(?::varchar[]), ?, ?, ?",
            (report, new, day, day, load_id),
        )
    if earlier:
        con.execute(
            "update raw.schema_keys set first_day = ?, first_load_id = ? "
            "where report = ? and list_contains(?::varchar[], key)",
            (day, load_id, report, earlier),
        )
    if later:
        con.execute(
            "update raw.schema_keys set last_day = ? where report = ? and list_contains(?::varchar[], key)",
            (day, report, later),
        )


def _log(
    con: Any,
    load_id: str,
    scope: Scope,
    report: str,
    day: date,
    http_status: int | None,
    status: str,
    records: int = 0,
    quarantined: int = 0,
    duplicates: int = 0,
    parts: int = 0,
    retries: int = 0,
    message: str | None = None,
    started_at: datetime | None = None,
) -> None:
    con.execute(
        """
        insert into raw.ingest_log
            (load_id, scope_type, scope_name, report, day, http_status, status, records,
             quarantined, duplicates, parts, retries, message, started_at, finished_at)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            load_id,
            scope.type,
            scope.name,
            report,
            day,
            http_status,
            status,
            records,
            quarantined,
            duplicates,
            parts,
            retries,
            redact.redact(message) if message else None,
            started_at,
            _now(),
        ),
    )


def record_status(
    con: Any,
    scope: Scope,
    report: str,
    day: date | str,
    status: str,
    http_status: int | None,
    message: str | None,
    load_id: str,
    *,
    retries: int = 0,
    started_at: datetime | None = None,
) -> None:
    """Append a partition's state to ``raw.ingest_log`` without touching its data.

    Args:
        status: ``no_report`` (204), ``failed`` or ``skipped``.
        http_status: status of the report call, if one was made.
        message: why (redacted before it is stored).
    """
    if status not in ("no_report", "failed", "skipped", "loaded"):
        raise ValueError(f"unknown ingest status {status!r}")
    _log(
        con,
        load_id,
        scope,
        report,
        config.parse_day(day),
        http_status,
        status,
        retries=retries,
        message=message,
        started_at=started_at,
    )


def new_load_id(prefix: str = "load") -> str:
    """A unique, sortable load id: ``<prefix>-YYYYmmddTHHMMSSZ-<8 hex>``."""
    return f"{prefix}-{_now().strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


# --- seats and billing snapshots -----------------------------------------------------------------
def load_snapshot(
    con: Any,
    scope: Scope,
    snapshot_day: date | str,
    billing: dict | None,
    seats: list[dict],
    load_id: str,
    total_seats: int | None = None,
) -> dict[str, int]:
    """Replace one day's seats/billing snapshot of a scope, in one transaction.

    Args:
        billing: the ``/copilot/billing`` object (None when not fetched: only seats are replaced).
        seats: every seat object from ``/copilot/billing/seats``.
        total_seats: the listing's ``total_seats`` (billed seats; may differ from the rows).

    Returns:
        ``{"billing": 0|1, "seats": n}`` rows written.
    """
    import json

    day = config.parse_day(snapshot_day, "snapshot_day")
    key = (scope.type, scope.name, day)
    where = "scope_type = ? and scope_name = ? and snapshot_day = ?"
    seat_lines = [json.dumps(s, separators=(",", ":")) for s in seats]
    con.begin()
    try:
        if billing is not None:
            con.execute(f"delete from raw.copilot_billing where {where}", key)
            con.execute(
                "insert into raw.copilot_billing values (?, ?, ?, ?, ?, now(), ?)",
                (*key, json.dumps(billing, separators=(",", ":")), load_id, SOURCE_SEATS),
            )
        con.execute(f"delete from raw.copilot_seats where {where}", key)
        if seat_lines:
            con.execute(
                """
                insert into raw.copilot_seats
                select ?, ?, ?, try_cast(s ->> '$.assignee.id' as bigint), s::json, ?, now(), ?
                from (select unnest(?::varchar[]) as s)
                """,
                (*key, load_id, SOURCE_SEATS, seat_lines),
            )
        con.execute(f"delete from raw.copilot_seat_totals where {where}", key)
        con.execute(
            "insert into raw.copilot_seat_totals values (?, ?, ?, ?, ?, ?, now(), ?)",
            (*key, total_seats, len(seat_lines), load_id, SOURCE_SEATS),
        )
        # Not logged in raw.ingest_log: its newest 'loaded' day is read as "the newest report day"
        # by the freshness check, and a daily snapshot would hide a stalled report feed.
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return {"billing": int(billing is not None), "seats": len(seat_lines)}


def load_snapshot_partition(
    con: Any, scope: Scope, snapshot_day: date | str, landing_root: str | os.PathLike[str], load_id: str
) -> dict[str, int]:
    """Load a landed seats/billing snapshot (``<scope>/billing/<day>/``) with :func:`load_snapshot`."""
    import json

    day = config.parse_day(snapshot_day, "snapshot_day")
    label = _label(scope, SNAPSHOT_REPORT, day)
    try:
        with zone.open_partition(landing_root, scope, SNAPSHOT_REPORT, day) as opened:
            files = {Path(rel).name: local for rel, local in opened.files}
            billing = json.loads(files[BILLING_FILE].read_text()) if BILLING_FILE in files else None
            seats = []
            if SEATS_FILE in files:
                with open(files[SEATS_FILE], encoding="utf-8") as fh:
                    seats = [json.loads(line) for line in fh if line.strip()]
            total_seats = None
            if SEAT_TOTALS_FILE in files:
                total_seats = json.loads(files[SEAT_TOTALS_FILE].read_text()).get("total_seats")
    except zone.LandingError as exc:
        raise LoadError(redact.redact(str(exc))) from None
    except (ValueError, OSError) as exc:
        raise LoadError(f"{label}: unreadable snapshot: {redact.exception_text(exc)}") from None
    return load_snapshot(con, scope, day, billing, seats, load_id, total_seats=total_seats)
