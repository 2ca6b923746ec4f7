"""What a landed file holds: :func:`content` reads it, decompressed when it is a ``.gz`` or ``.zst`` part.

Secret scans read files through it, so a token inside a compressed landing part is still found.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import zstandard


def content(path: Path) -> bytes:
    """The file's bytes; a ``.gz`` or ``.zst`` file's decompressed bytes (its raw bytes if it does
    not decompress)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError):
            return data
    if path.suffix == ".zst":
        try:
            return zstandard.ZstdDecompressor().decompressobj(read_across_frames=True).decompress(data)
        except zstandard.ZstdError:
            return data
    return data
