"""Fault injection for the simulator: a plan of faults chosen per endpoint and request pattern.

Add faults to a running server and watch the client cope::

    server.faults.add("status", match=r"users-1-day/2026-11-18$", times=2, status=503)
    server.faults.add("malformed_line", match=r"users-1-day/2026-11-18/part-1")
    server.faults.clear()

Every request has a *target*, the string ``match`` (a regular expression, ``re.search``) is tried
against; query strings never take part:

- report calls: ``<prefix>/copilot/metrics/reports/<report>/<YYYY-MM-DD>`` (1-day) or
  ``<prefix>/copilot/metrics/reports/<report>/latest`` (28-day);
- downloads: the report call's target plus ``/part-<n>`` (1-based), e.g.
  ``/orgs/octo-demo/copilot/metrics/reports/users-1-day/2026-11-18/part-2``;
- seats: ``<prefix>/copilot/billing/seats/page-<n>``; other routes: their path.

with ``<prefix>`` ``/orgs/<org>`` or ``/enterprises/<enterprise>``. So
``match="users-1-day/2026-11-18"`` hits both the report call and its downloads, and ``where``
narrows a fault to ``"api"`` requests, ``"download"`` requests or ``"any"``.

``times`` is how many matching requests a fault fires on (None = every one). Transport faults
default to firing once on API requests; download and data faults default to firing on every
matching download. Data faults change only the served bytes: the :class:`Dataset` stays pure, so
tests compute the clean expected records from it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# kind -> (default where, default times)
TRANSPORT_KINDS: dict[str, tuple[str, int | None]] = {
    "status": ("api", 1),
    "slow": ("api", 1),
    "reset": ("api", 1),
    "rate_limit_429": ("api", 1),
    "secondary_rate_limit": ("api", 1),
    "expired_link": ("download", 1),
    "truncated": ("download", 1),
}
DATA_KINDS: dict[str, tuple[str, int | None]] = {
    "malformed_line": ("download", None),
    "json_array": ("download", None),
    "huge_line": ("download", None),
    "repeated_records": ("download", None),
    "unknown_fields": ("download", None),
    "missing_fields": ("download", None),
    "bad_counters": ("download", None),
}
KINDS = {**TRANSPORT_KINDS, **DATA_KINDS}
KIND_DOCS: dict[str, str] = {
    "status": "Answer `status` (500 by default; 502/503 too) with GitHub's JSON error body, "
    "`times` times: a burst of server errors the client must retry through.",
    "slow": "Sleep `seconds` (default 3) before answering, so a client with a shorter read "
    "timeout times out and retries.",
    "reset": "Send the headers and half of the body, then reset the TCP connection (RST): "
    "a connection dropped mid-body.",
    "rate_limit_429": "Answer 429 with `Retry-After: retry_after` (default 1 s): the client "
    "must wait that long, then retry.",
    "secondary_rate_limit": "Answer 403 'secondary rate limit' with `x-ratelimit-remaining: 0` "
    "and `x-ratelimit-reset` `reset_in` (default 1) seconds ahead: wait until the reset, then retry.",
    "expired_link": "Answer a download with 403 'Request has expired', as an expired signed "
    "URL does: the client must ask for fresh links.",
    "truncated": "Send a download's full Content-Length but only `fraction` (default 0.5) of "
    "the body, then close: the client must notice the short body.",
    "malformed_line": "Insert a line that is not JSON at `line` (default 1, 0-based) of the "
    "served part; every real record is still there.",
    "json_array": "Serve the part as one JSON array of the records instead of NDJSON.",
    "huge_line": "Add a `_simulator_padding` field of `size` bytes (default 10 MB) to record "
    "`line` (default 0): a valid record on a very long line.",
    "repeated_records": "Repeat the first `count` (default 3) records of the previous part at "
    "the start of this part (part 1 repeats the last records of the report): duplicates across parts.",
    "unknown_fields": "Add `fields` (default a new counter and a new breakdown array) to every "
    "record: schema drift the loader must keep.",
    "missing_fields": "Remove `fields` (default `totals_by_language_model`, `used_cli`, "
    "`ai_credits_used`) from every record.",
    "bad_counters": "Make `field` (default `code_generation_activity_count`) negative (-7) in "
    "the first record and non-numeric ('12a') in the second.",
}


@dataclass
class Fault:
    """One planned fault. ``hits`` counts how often it fired."""

    kind: str
    match: str
    times: int | None
    where: str
    opts: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def __post_init__(self) -> None:
        self._re = re.compile(self.match)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def applies(self, target: str, where: str) -> bool:
        return (
            not self.exhausted
            and (self.where == "any" or self.where == where)
            and self._re.search(target) is not None
        )


class FaultPlan:
    """The faults a running server injects (thread-safe). See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        match: str = ".*",
        times: int | None | str = "default",
        where: str | None = None,
        **opts: Any,
    ) -> Fault:
        """Plan a fault.

        Args:
            kind: One of :data:`KINDS` (documented in :data:`KIND_DOCS`).
            match: Regular expression searched in the request target (module docstring).
            times: Matching requests to fire on (None = always); defaults per kind.
            where: ``"api"``, ``"download"`` or ``"any"``; defaults per kind.
            **opts: Kind options (``status``, ``seconds``, ``retry_after``, ``reset_in``,
                ``fraction``, ``line``, ``size``, ``count``, ``fields``, ``field``).

        Returns:
            The planned :class:`Fault` (its ``hits`` shows how often it fired).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose one of {sorted(KINDS)}")
        default_where, default_times = KINDS[kind]
        where = where or default_where
        if where not in ("api", "download", "any"):
            raise ValueError(f"where must be 'api', 'download' or 'any', not {where!r}")
        fault = Fault(kind, match, default_times if times == "default" else times, where, opts)  # type: ignore[arg-type]
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every planned fault."""
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)

    @property
    def faults(self) -> list[Fault]:
        """A copy of the planned faults."""
        with self._lock:
            return list(self._faults)

    def take_transport(self, target: str, where: str) -> Fault | None:
        """The first transport fault that applies (its hit is counted), or None."""
        with self._lock:
            for f in self._faults:
                if f.kind in TRANSPORT_KINDS and f.applies(target, where):
                    f.hits += 1
                    return f
        return None

    def take_data(self, target: str) -> list[Fault]:
        """Every data fault that applies to a download of ``target`` (hits are counted)."""
        out = []
        with self._lock:
            for f in self._faults:
                if f.kind in DATA_KINDS and f.applies(target, "download"):
                    f.hits += 1
                    out.append(f)
        return out


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def apply_data_faults(faults: list[Fault], parts: list[list[str]], index: int) -> bytes:
    """The bytes of part ``index`` (0-based) of ``parts`` after applying data ``faults``."""
    lines = list(parts[index])
    as_array = False
    for f in faults:
        o = f.opts
        fn: Callable[..., Any] | None = _DATA_FAULTS.get(f.kind)
        if f.kind == "json_array":
            as_array = True
        elif fn is not None:
            lines = fn(lines, parts, index, **o)
    if as_array:
        return (("[" + ",".join(lines) + "]\n") if lines else "[]\n").encode()
    return "".join(line + "\n" for line in lines).encode()


def _malformed(lines, parts, index, line: int = 1, **_):
    """malformed_line: insert a line that is not JSON; every real record stays."""
    bad = '{"day": "broken", "user_id": 1, "code_generation_activity_count": 3,'
    out = list(lines)
    out.insert(min(line, len(out)), bad)
    return out


def _huge(lines, parts, index, line: int = 0, size: int = 10 * 1024 * 1024, **_):
    """huge_line: pad one record with a ``_simulator_padding`` field of ``size`` bytes (still valid JSON)."""
    if not lines:
        return lines
    out = list(lines)
    k = min(line, len(out) - 1)
    rec = json.loads(out[k])
    rec["_simulator_padding"] = "x" * size
    out[k] = _dumps(rec)
    return out


def _repeated(lines, parts, index, count: int = 3, **_):
    """repeated_records: repeat ``count`` records of the neighbouring part (duplicates across parts)."""
    source = parts[index - 1] if index > 0 else parts[-1]
    repeat = source[:count] if index > 0 else source[-count:]
    return list(repeat) + list(lines)


def _per_record(lines, change):
    out = []
    k = 0
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:  # already broken by another fault: keep it as it is
            out.append(line)
            continue
        change(k, rec)
        k += 1
        out.append(_dumps(rec))
    return out


def _unknown(lines, parts, index, fields: dict | None = None, **_):
    """unknown_fields: add new top-level fields to every record (schema drift)."""
    extra = fields or {
        "future_counter_sum": 3,
        "totals_by_future_surface": [{"surface": "glasses", "user_initiated_interaction_count": 1}],
    }
    return _per_record(lines, lambda k, rec: rec.update(extra))


def _missing(
    lines,
    parts,
    index,
    fields: tuple | list = ("totals_by_language_model", "used_cli", "ai_credits_used"),
    **_,
):
    """missing_fields: remove ``fields`` from every record."""

    def drop(k, rec):
        for name in fields:
            rec.pop(name, None)

    return _per_record(lines, drop)


def _bad_counters(lines, parts, index, field: str = "code_generation_activity_count", **_):
    """bad_counters: a negative counter in the first record, a non-numeric one in the second."""

    def spoil(k, rec):
        if k == 0:
            rec[field] = -7
        elif k == 1:
            rec[field] = "12a"

    return _per_record(lines, spoil)


_DATA_FAULTS: dict[str, Callable[..., list[str]]] = {
    "malformed_line": _malformed,
    "huge_line": _huge,
    "repeated_records": _repeated,
    "unknown_fields": _unknown,
    "missing_fields": _missing,
    "bad_counters": _bad_counters,
}
