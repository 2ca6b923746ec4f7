"""Pytest plugin: record what each fault-injection test observed and publish ``docs/reliability.md``.

``tests/test_faults.py`` loads this module with ``pytest_plugins = ["harness.fault_matrix"]`` and lists
every row of the matrix in its ``FAULT_MATRIX_CASES``; every case records its row through the
``fault_matrix`` fixture: the fault, where it was injected, the behaviour we promise, what the
pipeline actually did, how many records were quarantined and how many secrets were found.

At the end of the session the Markdown table is written to ``docs/reliability.md``, but only
when every declared case recorded its row and no test of ``test_faults.py`` failed: a partial run
(``-k``, one node id, a failure) leaves the published matrix as it was. The document holds no
timings, temporary paths, request ids or epochs, so a rerun produces no diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
FAULT_TEST_FILE = "test_faults.py"

INTRO = """\
# Reliability: the fault matrix

What the pipeline does when GitHub (or the network, or the data) misbehaves. Each row is one test
of `tests/test_faults.py`: the bundled simulator injects the fault over real HTTP on 127.0.0.1,
the real path runs (`ingest.fetch_scope_days` with a real `CopilotClient`, then
`ingest.load_receipts` into a real DuckDB file), and the test asserts the outcome in the
*Expected* column. Every run starts from a warehouse whose earlier days were loaded cleanly, and
the fault hits a day that was already loaded and a new one.

- **Success** means the raw rows equal the simulator's clean records for every partition (keys
  and counters), bad lines are in `raw.quarantine` with their reason and raw text, and new
  fields are recorded in `raw.schema_keys`.
- **Failed cleanly** means the error names scope, report and day, every partition loaded
  before is unchanged (checksums), and nothing of the failed partition was written.
- After every fault the fault is cleared and the same days are fetched again: the raw tables
  then equal those of a run that never saw a fault.
- **Secrets found** counts occurrences of the API token and of the signed download links'
  `signature`/`expires` values in the captured logs (DEBUG, urllib3 included), exception text,
  receipts (what goes to XCom), every landing file and every text or JSON column of every
  warehouse table. It must be 0.

This file is generated: do not edit it by hand. Regenerate it with

```
.venv/bin/pytest tests/test_faults.py
```

It is rewritten only when every fault test ran and passed.
"""

_HEADER = (
    "| Fault | Injected | Expected | Observed | Quarantined | Secrets found |\n|---|---|---|---|---:|---:|\n"
)

_VOLATILE = (
    (re.compile(r"x-github-request-id [0-9A-Fa-f]+"), "x-github-request-id …"),
    (re.compile(r"\b1\d{9}\b"), "<epoch>"),
    (re.compile(r"\b127\.0\.0\.1:\d+"), "<simulator>"),  # rate-limit resets and link expiry times
    (re.compile(r"/tmp/\S+|\S*pytest-of-\S+"), "<path>"),
    (re.compile(r"\bload-\d{8}T\d{6}Z-[0-9a-f]{8}\b"), "<load id>"),
)


def stable(text: object) -> str:
    """``text`` without what changes between runs (request ids, epochs, temp paths, load ids)."""
    out = str(text)
    for pattern, replacement in _VOLATILE:
        out = pattern.sub(replacement, out)
    return out


MAX_CELL = 240


def _cell(text: object) -> str:
    out = stable(text).replace("|", "\\|").replace("\n", " ").strip()
    return out if len(out) <= MAX_CELL else out[: MAX_CELL - 1].rstrip() + "…"


@dataclass(frozen=True)
class Row:
    """One line of the matrix."""

    case: str
    fault: str
    where: str
    expected: str
    observed: str
    quarantined: int
    secrets_found: int

    def markdown(self) -> str:
        cells = (self.fault, self.where, self.expected, self.observed, self.quarantined, self.secrets_found)
        return "| " + " | ".join(_cell(c) for c in cells) + " |"


class _State:
    """What the session has seen so far."""

    def __init__(self) -> None:
        self.expected: list[str] = []
        self.rows: dict[str, Row] = {}
        self.failed: list[str] = []
        self.ran = 0


_STATE = _State()


def expect(cases: list[str]) -> None:
    """Declare the case ids (in table order) a full run of the fault suite must record."""
    for case in cases:
        if case not in _STATE.expected:
            _STATE.expected.append(case)


class Recorder:
    """Given to a test by the ``fault_matrix`` fixture: ``record(...)`` adds its row."""

    def record(
        self,
        case: str,
        *,
        fault: str,
        where: str,
        expected: str,
        observed: str,
        quarantined: int,
        secrets_found: int,
    ) -> Row:
        if case not in _STATE.expected:
            raise ValueError(f"case {case!r} is not in the test module's FAULT_MATRIX_CASES")
        row = Row(case, fault, where, expected, observed, int(quarantined), int(secrets_found))
        _STATE.rows[case] = row
        return row


@pytest.fixture
def fault_matrix(request: pytest.FixtureRequest) -> Recorder:
    """Record this test's row of the published fault matrix.

    The test module's ``FAULT_MATRIX_CASES`` (every row, whatever was selected) becomes the set
    of rows a run must record before the document is rewritten.
    """
    expect(list(request.module.FAULT_MATRIX_CASES))
    return Recorder()


def render(rows: list[Row]) -> str:
    """The whole Markdown document."""
    return INTRO + "\n## Matrix\n\n" + _HEADER + "\n".join(r.markdown() for r in rows) + "\n"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if FAULT_TEST_FILE not in report.nodeid.split("::")[0]:
        return
    if report.failed:
        _STATE.failed.append(report.nodeid)
    elif report.when == "call":
        _STATE.ran += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    missing = [c for c in _STATE.expected if c not in _STATE.rows]
    if not _STATE.expected or missing or _STATE.failed:
        return
    text = render([_STATE.rows[c] for c in _STATE.expected])
    if not DOC_PATH.exists() or DOC_PATH.read_text() != text:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(text)
