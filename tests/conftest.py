"""Shared fixtures: a real simulator server on 127.0.0.1 (started and stopped per test).

``simulator`` is a running :class:`SimulatorServer` with the default configuration;
``make_simulator(**overrides)`` starts one with :class:`SimulatorConfig` fields overridden
(e.g. ``make_simulator(parts=3, users_per_org=10)``). Everything else lives in the package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from copilot_dev.simulator import SimulatorConfig, SimulatorServer


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
