"""The landing zone: downloaded report files, immutable and replayable, one folder per partition.

Layout (``root`` is ``COPILOT_LANDING_PATH``, a local path or an fsspec URL such as ``file://``
or ``s3://``)::

    <root>/<scope_type>/<scope_name>/<report>/<day>/part-0001.ndjson.zst
                                                   /part-0002.ndjson.zst
                                                   /_manifest.json

``_manifest.json`` is ``{"scope_type", "scope_name", "report", "day", "http_status",
"parts": [{"file", "bytes", "sha256", ...}], "fetched_at", ...}``. It never holds a URL: signed
download links stay in memory in the fetch task. A 204 (no report for that day) writes a
manifest with no parts, so "asked, nothing there" differs from "never asked".

Compression (``COPILOT_LANDING_COMPRESSION``, default ``zstd``): each downloaded part (those
written through ``part_path``) is compressed in the staging folder at commit, streaming, and stored
as ``part-NNNN.ndjson.zst`` (zstd level ``ZSTD_LEVEL``, with a content checksum and the content
size in the frame header) or, with ``gzip``, ``part-NNNN.ndjson.gz``; ``none`` keeps plain
``part-NNNN.ndjson`` as before. Both are deterministic: the same content gives the same bytes and
sha256. A part's manifest entry then also has ``"compression"`` (``zstd``, ``gzip`` or ``none``:
what the stored file is) and ``"uncompressed_bytes"`` (the NDJSON bytes; None when the download
itself was already a gzip or zstd file, which is stored as it came, renamed for what it is).
``bytes`` and ``sha256`` always cover the stored file, exactly as it is on disk or in the bucket
(the compressed bytes for a ``.zst`` or ``.gz`` part): they check the copy, not its content.
Partitions landed before (plain or ``.gz`` parts, with or without a ``compression`` key) are read
as they are: the loader recognises a part by its content, not by its name or the manifest.

Atomic replacement: a partition is written into a staging folder and swapped into place in one
rename (Linux ``renameat2(RENAME_EXCHANGE)`` on local disks, else two renames), so a reader sees
the old partition or the new one, never half of one. On object storage, where folders cannot be
renamed, the manifest is removed first and written last, and readers verify every part against
the manifest's sha256 (``open_partition`` retries when a partition changes under it).
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from copilot_warehouse import config
from copilot_warehouse.config import Scope

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
_STAGING_PREFIX = ".staging-"
_OLD_PREFIX = ".old-"
_READ_ATTEMPTS = 5
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_LEVEL = 6  # zlib's default: ~10x smaller NDJSON; level 1 saves little time and costs ratio
# zstd level 9, measured on report NDJSON: 11-13x (noisy values) to 27x (the simulator's) smaller,
# 5-20% smaller than gzip 6 and about as fast to write (70-180 MB/s); 3 is faster but larger than
# gzip, 12+ gains a few % for 2-100x the time. Decompression speed hardly depends on the level.
ZSTD_LEVEL = 9
_SUFFIXES = {"zstd": "zst", "gzip": "gz"}
_COPY_CHUNK = 1 << 20


class LandingError(RuntimeError):
    """A landing partition is missing, inconsistent or cannot be written."""


def part_name(index: int, suffix: str = "ndjson") -> str:
    """File name of the ``index``-th part (1-based): ``part-0001.ndjson``."""
    return f"part-{index:04d}.{suffix}"


def partition_relpath(scope: Scope, report: str, day: date | str) -> str:
    """Partition folder relative to the landing root: ``<type>/<name>/<report>/<day>``."""
    day_text = config.parse_day(day).isoformat()
    _check_name(report, "report")
    return f"{scope.type}/{scope.name}/{report}/{day_text}"


def _check_name(name: str, what: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        raise LandingError(f"invalid {what} name for the landing zone: {name!r}")
    return name


def _fs(root: str | os.PathLike[str]):
    """``(filesystem, root_path, is_local)`` for a landing root path or URL."""
    from fsspec.core import url_to_fs
    from fsspec.implementations.local import LocalFileSystem

    fs, path = url_to_fs(str(root))
    is_local = isinstance(fs, LocalFileSystem)
    if not is_local:
        # fsspec reuses one instance per process and caches its listings: another process (a
        # Celery worker) may have landed or replaced partitions since, so list afresh.
        fs.invalidate_cache()
    return fs, path.rstrip("/") or "/", is_local


# Object stores: "folders" are key prefixes, and their makedirs would create a missing bucket.
_OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"}


def _is_object_store(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return bool(_OBJECT_STORES.intersection(protocols))


def _root_label(root: str | os.PathLike[str]) -> str:
    """The landing root for messages, without any ``user:password@`` part of a URL."""
    text = str(root)
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def _sha256_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def _compressed_as(path: Path) -> str | None:
    """``gzip`` or ``zstd`` when the file starts with that format's magic bytes, else None."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    if head == ZSTD_MAGIC:
        return "zstd"
    return None


def _gzip_file(src: Path, dest: Path) -> int:
    """Compress ``src`` into ``dest`` a block at a time (never the whole part in memory).

    Returns:
        The uncompressed bytes read. ``mtime=0`` and no file name in the header, so the same
        content always gives the same bytes (and sha256).
    """
    size = 0
    with (
        open(src, "rb") as fin,
        open(dest, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=raw, mtime=0) as fout,
    ):
        while chunk := fin.read(_COPY_CHUNK):
            fout.write(chunk)
            size += len(chunk)
    return size


def _zstd_file(src: Path, dest: Path) -> int:
    """Compress ``src`` into ``dest`` as one zstd frame, streaming (never the whole part in memory).

    Returns:
        The uncompressed bytes read. Single-threaded, fixed level and read size, content checksum
        and size in the frame: the same content always gives the same bytes (and sha256).
    """
    import zstandard

    size = src.stat().st_size
    cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, write_content_size=True)
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        read, _ = cctx.copy_stream(fin, fout, size=size, read_size=_COPY_CHUNK, write_size=_COPY_CHUNK)
    return read


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- atomic swap on local disks ------------------------------------------------------------------
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing folders (Linux ``renameat2``); False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _publish_local(staging: Path, final: Path) -> None:
    """Move ``staging`` to ``final``, replacing an existing partition in one step."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staging, final)  # no previous partition: a plain rename is atomic
        return
    except OSError:
        if not final.exists():
            raise
    if _exchange(staging, final):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the old partition
        return
    old = final.with_name(f"{_OLD_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}")
    os.rename(final, old)  # fallback: a reader may see no partition for an instant (it retries)
    os.rename(staging, final)
    shutil.rmtree(old, ignore_errors=True)


@dataclass
class PartitionWriter:
    """Collects the files of one partition in a local staging folder, then publishes them.

    Use through :func:`partition_writer`. Download each part to ``part_path(i)`` (or give
    bytes to ``write_bytes``), then call ``commit(http_status)``.
    """

    root: str
    scope: Scope
    report: str
    day: date
    staging: Path
    compression: str = config.DEFAULT_LANDING_COMPRESSION
    _files: list[str] = field(default_factory=list)
    _parts: set[str] = field(default_factory=set)
    committed: dict[str, Any] | None = None

    def part_path(self, index: int, suffix: str = "ndjson") -> Path:
        """Local path to write part ``index`` (1-based) to; registers it as a part.

        Write the part as downloaded (plain NDJSON, or a gzip or zstd file if that is what came):
        ``commit`` compresses it when the writer's compression is ``zstd`` or ``gzip``.
        """
        path = self.path(part_name(index, suffix))
        self._parts.add(path.name)
        return path

    def path(self, name: str) -> Path:
        """Local path for a file called ``name`` in this partition; registers it."""
        _check_name(name, "file")
        if name == MANIFEST:
            raise LandingError(f"{MANIFEST} is written by commit()")
        if name not in self._files:
            self._files.append(name)
        return self.staging / name

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write a whole file of this partition from memory."""
        path = self.path(name)
        path.write_bytes(data)
        return path

    def commit(self, http_status: int, **extra: Any) -> dict[str, Any]:
        """Write the manifest and publish the partition atomically.

        Args:
            http_status: status of the report call (200, or 204 for no report).
            **extra: additional JSON-serialisable manifest fields (never URLs or tokens).

        Returns:
            The manifest written.
        """
        parts = []
        for name in self._files:
            path = self.staging / name
            if not path.exists():
                raise LandingError(f"{self.label}: part {name} was registered but never written")
            entry: dict[str, Any] = {}
            if name in self._parts:
                entry["compression"] = self.compression
                if self.compression in _SUFFIXES:
                    path, entry["compression"], entry["uncompressed_bytes"] = self._compress(path)
                else:
                    entry["uncompressed_bytes"] = path.stat().st_size
            size, sha = _sha256_file(path)
            parts.append({"file": path.name, "bytes": size, "sha256": sha, **entry})
        manifest = {
            "scope_type": self.scope.type,
            "scope_name": self.scope.name,
            "report": self.report,
            "day": self.day.isoformat(),
            "http_status": int(http_status),
            "parts": parts,
            "fetched_at": _utcnow(),
            **extra,
        }
        (self.staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        fs, root_path, is_local = _fs(self.root)
        rel = partition_relpath(self.scope, self.report, self.day)
        if is_local:
            _publish_local(self.staging, Path(root_path) / rel)
        else:
            try:
                _publish_remote(fs, f"{root_path}/{rel}", self.staging, [p["file"] for p in parts])
            except OSError as exc:  # missing bucket, refused credentials, unreachable endpoint
                hint = " (check the storage credentials and their permissions)"
                raise LandingError(
                    f"{self.label}: cannot write to the landing zone {_root_label(self.root)}: "
                    f"{type(exc).__name__}: {exc}" + (hint if isinstance(exc, PermissionError) else "")
                ) from None
        self.committed = manifest
        return manifest

    def _compress(self, path: Path) -> tuple[Path, str, int | None]:
        """Replace a staged part by its compressed file ``<name>.zst`` (or ``.gz``).

        A part that is already gzip or zstd (GitHub served a compressed file rather than a
        ``Content-Encoding``, which the download decodes) is only renamed for what it is
        (``.gz`` or ``.zst``, whatever the setting), never compressed twice.

        Returns:
            ``(new path, compression stored, uncompressed bytes or None when not known)``.
        """
        arrived = _compressed_as(path)
        compression = arrived or self.compression
        dest = path.with_name(f"{path.name}.{_SUFFIXES[compression]}")
        if dest.name in self._files:
            raise LandingError(f"{self.label}: both {path.name} and {dest.name} are in the partition")
        if arrived:
            os.replace(path, dest)
            uncompressed = None
        else:
            tmp = path.with_name(f".{dest.name}.tmp")
            uncompressed = (_zstd_file if compression == "zstd" else _gzip_file)(path, tmp)
            os.replace(tmp, dest)
            path.unlink()
        return dest, compression, uncompressed

    @property
    def label(self) -> str:
        return f"{self.scope.label} {self.report} {self.day.isoformat()}"


def _publish_remote(fs: Any, final: str, staging: Path, files: list[str]) -> None:
    """Object storage: drop the old manifest, replace the parts, write the manifest last."""
    manifest_path = f"{final}/{MANIFEST}"
    if fs.exists(manifest_path):
        fs.rm(manifest_path)
    if fs.exists(final):
        for path in fs.find(final):
            fs.rm(path)
    if not _is_object_store(fs):
        fs.makedirs(final, exist_ok=True)
    for name in files:
        fs.put_file(str(staging / name), f"{final}/{name}")
    fs.put_file(str(staging / MANIFEST), manifest_path)


@contextlib.contextmanager
def partition_writer(
    root: str | os.PathLike[str], scope: Scope, report: str, day: date | str, compression: str | None = None
) -> Iterator[PartitionWriter]:
    """Stage one partition's files; publish them only when ``commit`` is called.

    If the block raises (or never commits), the staging folder is removed and the previously
    landed partition, if any, stays as it was.

    Args:
        root: landing root (path or fsspec URL).
        scope: organization or enterprise.
        report: report name (``users-1-day``...), or ``billing`` for seat snapshots.
        day: report day (for 28-day reports, the report's end day).
        compression: how parts written through ``part_path`` are stored, ``zstd``, ``gzip`` or
            ``none``; default the setting ``COPILOT_LANDING_COMPRESSION`` (``zstd``).

    Yields:
        A :class:`PartitionWriter`.
    """
    day = config.parse_day(day)
    compression = config.landing_compression(compression)
    rel = partition_relpath(scope, report, day)
    fs, root_path, is_local = _fs(root)
    if is_local:
        # Stage beside the final folder: same file system, so the publishing rename is atomic.
        parent = Path(root_path) / Path(rel).parent
        parent.mkdir(parents=True, exist_ok=True)
        staging = parent / f"{_STAGING_PREFIX}{day.isoformat()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
    else:
        staging = Path(tempfile.mkdtemp(prefix="copilot-landing-"))
    writer = PartitionWriter(str(root), scope, report, day, staging, compression)
    try:
        yield writer
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_partition(
    root: str | os.PathLike[str],
    scope: Scope,
    report: str,
    day: date | str,
    http_status: int,
    files: dict[str, bytes] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Land a whole partition from memory (small files, tests, snapshots, 204 manifests).

    Returns:
        The manifest written.
    """
    with partition_writer(root, scope, report, day) as writer:
        for name, data in (files or {}).items():
            writer.write_bytes(name, data)
        return writer.commit(http_status, **extra)


# --- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartitionRef:
    """One landed partition."""

    scope: Scope
    report: str
    day: date

    @property
    def relpath(self) -> str:
        return partition_relpath(self.scope, self.report, self.day)


def read_manifest(root: str | os.PathLike[str], scope: Scope, report: str, day: date | str) -> dict | None:
    """The partition's manifest, or None when the partition was never landed."""
    fs, root_path, _ = _fs(root)
    path = f"{root_path}/{partition_relpath(scope, report, day)}/{MANIFEST}"
    for attempt in range(_READ_ATTEMPTS):
        try:
            with fs.open(path, "rb") as fh:
                return json.loads(fh.read())
        except FileNotFoundError:
            # A local fallback swap or a remote replacement may hide the manifest for an instant.
            if attempt == _READ_ATTEMPTS - 1 or not _replacement_in_progress(fs, path):
                return None
            time.sleep(0.05 * (attempt + 1))
    return None


def _replacement_in_progress(fs: Any, manifest_path: str) -> bool:
    day_dir = manifest_path.rsplit("/", 1)[0]
    parent, day_name = day_dir.rsplit("/", 1)
    try:
        names = [p.rsplit("/", 1)[-1] for p in fs.ls(parent, detail=False)]
    except FileNotFoundError:
        return False
    return any(n.startswith((_STAGING_PREFIX + day_name, _OLD_PREFIX + day_name)) for n in names) or (
        fs.exists(day_dir)
    )


def list_partitions(
    root: str | os.PathLike[str], scope: Scope | None = None, report: str | None = None
) -> list[PartitionRef]:
    """Every landed partition (those with a manifest), sorted by scope, report and day."""
    fs, root_path, _ = _fs(root)
    if not fs.exists(root_path):
        return []
    pattern = "/".join(
        [
            root_path,
            scope.type if scope else "*",
            scope.name if scope else "*",
            report or "*",
            "*",
            MANIFEST,
        ]
    )
    refs = []
    for path in fs.glob(pattern):
        scope_type, scope_name, rep, day_text = path.rstrip("/").split("/")[-5:-1]
        if day_text.startswith("."):
            continue
        try:
            refs.append(PartitionRef(Scope(scope_type, scope_name), rep, date.fromisoformat(day_text)))
        except (ValueError, config.ConfigError):
            log.warning("ignoring an unexpected folder in the landing zone: %s", path)
    return sorted(refs, key=lambda r: (r.scope, r.report, r.day))


@dataclass(frozen=True)
class OpenPartition:
    """A landed partition readable from local disk.

    Attributes:
        manifest: the partition's manifest.
        files: ``(relative_path, local_path)`` per part, in manifest order; the relative path
            (from the landing root) is what raw tables store in ``_part``.
    """

    manifest: dict[str, Any]
    files: list[tuple[str, Path]]

    def still_current(self, root: str | os.PathLike[str]) -> bool:
        """True when the landed partition has not been replaced since it was opened."""
        m = self.manifest
        now = read_manifest(root, Scope(m["scope_type"], m["scope_name"]), m["report"], m["day"])
        return now == m


@contextlib.contextmanager
def open_partition(
    root: str | os.PathLike[str], scope: Scope, report: str, day: date | str
) -> Iterator[OpenPartition]:
    """Give local paths to a partition's files, downloading them to a temp folder when remote.

    Remote parts are checked against the manifest's sha256; a partition replaced while it was
    being downloaded is read again.

    Raises:
        LandingError: the partition is not landed, or stays inconsistent after retries.
    """
    fs, root_path, is_local = _fs(root)
    rel = partition_relpath(scope, report, day)
    label = f"{scope.label} {report} {config.parse_day(day).isoformat()}"
    manifest = read_manifest(root, scope, report, day)
    if manifest is None:
        raise LandingError(f"{label}: not landed (no {MANIFEST} under {rel})")
    if is_local:
        for attempt in range(_READ_ATTEMPTS):
            files = [(f"{rel}/{p['file']}", Path(root_path) / rel / p["file"]) for p in manifest["parts"]]
            sizes = [p["bytes"] for p in manifest["parts"]]
            if all(_size(local) == size for (_, local), size in zip(files, sizes, strict=True)):
                break
            # Replaced between reading the manifest and its parts: read the new manifest.
            time.sleep(0.02 * (attempt + 1))
            manifest = read_manifest(root, scope, report, day)
            if manifest is None:
                raise LandingError(f"{label}: the partition disappeared while it was read")
        else:
            raise LandingError(f"{label}: the manifest lists parts that are missing or of another size")
        yield OpenPartition(manifest, files)
        return
    tmp = Path(tempfile.mkdtemp(prefix="copilot-partition-"))
    try:
        for attempt in range(_READ_ATTEMPTS):
            files, ok = [], True
            for p in manifest["parts"]:
                local = tmp / p["file"]
                try:
                    fs.get_file(f"{root_path}/{rel}/{p['file']}", str(local))
                except FileNotFoundError:
                    ok = False
                    break
                if _sha256_file(local) != (p["bytes"], p["sha256"]):
                    ok = False
                    break
                files.append((f"{rel}/{p['file']}", local))
            if ok:
                break
            time.sleep(0.1 * (attempt + 1))
            manifest = read_manifest(root, scope, report, day)
            if manifest is None:
                raise LandingError(f"{label}: the partition disappeared while it was read")
        else:
            raise LandingError(f"{label}: parts do not match the manifest after {_READ_ATTEMPTS} reads")
        yield OpenPartition(manifest, files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
