"""The bundled GitHub Copilot API simulator: data generator, HTTP server and fault injection.

- :class:`SimulatorConfig` / :class:`Dataset` (``data``): deterministic, realistic records
  for every report, seats, billing and the legacy API.
- :class:`SimulatorServer` (``server``): serves them over real HTTP on 127.0.0.1, with signed,
  expiring download links, token checks and GitHub's rate-limit headers.
- :class:`FaultPlan` (``faults``): server errors, timeouts, resets, rate limits, expired or
  truncated downloads and bad data, chosen per endpoint and request.
- ``python -m copilot_warehouse.simulator`` (``__main__``): run it from a shell.
"""

from copilot_warehouse.simulator.data import Dataset, SimulatorConfig, write_users_day
from copilot_warehouse.simulator.faults import KIND_DOCS, KINDS, Fault, FaultPlan
from copilot_warehouse.simulator.server import SimulatorServer

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
