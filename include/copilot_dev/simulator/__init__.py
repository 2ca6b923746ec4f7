"""The bundled GitHub Copilot API simulator: data generator, HTTP server and fault injection.

- :class:`SimulatorConfig` / :class:`Dataset` (``data``): deterministic, realistic records
  for every report, seats, billing and the legacy API.
- :class:`SimulatorServer` (``server``): serves them over real HTTP on 127.0.0.1, with signed,
  expiring download links, token checks and GitHub's rate-limit headers.
- :class:`FaultPlan` (``faults``): server errors, timeouts, resets, rate limits, expired or
  truncated downloads and bad data, chosen per endpoint and request.
- Per-scope answers of real deployments (``SimulatorConfig.forbidden_scopes`` 403,
  ``metrics_disabled_scopes`` 422, ``unavailable_reports`` 404) and messy mode
  (``SimulatorConfig(messy=True)``, ``messy``): restated days, renamed logins, odd seat rows,
  offset timestamps, inconsistent active counts, empty 200 answers and late aggregates, drawn
  reproducibly and listed by ``Dataset.messy_manifest()``.
- ``python -m copilot_dev.simulator`` (``__main__``): run it from a shell.
"""

from copilot_dev.simulator.data import Dataset, SimulatorConfig, write_users_day
from copilot_dev.simulator.faults import KIND_DOCS, KINDS, Fault, FaultPlan
from copilot_dev.simulator.server import SimulatorServer

__all__ = [
    "KINDS",
    "KIND_DOCS",
    "Dataset",
    "Fault",
    "FaultPlan",
    "SimulatorConfig",
    "SimulatorServer",
    "write_users_day",
]
