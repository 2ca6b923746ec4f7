"""Write the legacy archive fixture: what ``GET /orgs/octo-demo/copilot/metrics`` answered.

The files are the JSON arrays the retired legacy Copilot Metrics API returned, one per page of
``per_page=28`` days, saved as they arrived (reference §2.6/§2.7: one day object per element,
model ``default``, surfaces without users as ``{"total_engaged_users": 0}``). The figures come
from the simulator's legacy mode, so they follow the same activity model as the new reports.

Run from the repository root to regenerate (the output is deterministic)::

    .venv/bin/python tests/data/legacy/generate.py
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from copilot_warehouse.config import Scope
from copilot_dev.simulator import Dataset, SimulatorConfig

HERE = Path(__file__).parent
ORG = "octo-demo"
# The archive spans the new API's first days (org reports start 2025-12-12): those ten days
# overlap, and the warehouse must take them from the new API.
CONFIG = SimulatorConfig(
    start_day=date(2025, 12, 12),
    end_day=date(2026, 1, 4),
    legacy_start=date(2025, 11, 10),
    legacy_end=date(2025, 12, 21),
)
PER_PAGE = 28


def main() -> None:
    """Write ``<org>/copilot-metrics-page-<n>.json`` for the archive's days."""
    days = Dataset(CONFIG).legacy_days(Scope("organization", ORG), CONFIG.legacy_start, CONFIG.legacy_end)
    folder = HERE / ORG
    folder.mkdir(exist_ok=True)
    for old in folder.glob("copilot-metrics-page-*.json"):
        old.unlink()
    for page, first in enumerate(range(0, len(days), PER_PAGE), start=1):
        body = json.dumps(days[first : first + PER_PAGE], indent=2) + "\n"
        (folder / f"copilot-metrics-page-{page}.json").write_text(body, encoding="utf-8")


if __name__ == "__main__":
    main()
