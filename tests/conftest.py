"""Shared fixtures: a real simulator server on 127.0.0.1 (started and stopped per test).

``simulator`` is a running :class:`SimulatorServer` with the default configuration;
``make_simulator(**overrides)`` starts one with :class:`SimulatorConfig` fields overridden
(e.g. ``make_simulator(parts=3, users_per_org=10)``). Everything else lives in the package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from copilot_dev.simulator import SimulatorConfig, SimulatorServer
from copilot_warehouse.extract.client import CopilotClient


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., SimulatorServer]]:
    """Factory: ``make_simulator(**config_overrides)`` -> a started server, stopped after the test."""
    started: list[SimulatorServer] = []

    def _make(**overrides: object) -> SimulatorServer:
        config = dataclasses.replace(SimulatorConfig(), **overrides)
        server = SimulatorServer(config).start()
        started.append(server)
        return server

    yield _make
    for server in started:
        server.stop()


@pytest.fixture
def simulator(make_simulator: Callable[..., SimulatorServer]) -> SimulatorServer:
    """A running simulator with the default configuration."""
    return make_simulator()


@pytest.fixture
def client(simulator) -> Iterator[CopilotClient]:
    """A client of ``simulator`` with fast retries (no real sleeping), closed after the test."""
    with CopilotClient(
        simulator.url, "sim-token", max_attempts=3, backoff=0.01, max_wait=0.5, sleep=lambda s: None
    ) as c:
        yield c


@pytest.fixture
def paths(tmp_path) -> tuple[Path, Path]:
    """``(landing root, warehouse file)`` under the test's tmp_path."""
    return tmp_path / "landing", tmp_path / "warehouse.duckdb"
