"""What a landed file holds: :func:`content` reads it, gunzipped when it is a ``.gz`` part.

Secret scans read files through it, so a token inside a compressed landing part is still found.
"""

from __future__ import annotations

import gzip
from pathlib import Path


def content(path: Path) -> bytes:
    """The file's bytes; a ``.gz`` file's decompressed bytes (its raw bytes if it is not valid gzip)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError):
            return data
    return data
