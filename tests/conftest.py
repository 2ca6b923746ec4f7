"""Shared fixtures: a real simulator server on 127.0.0.1 (started and stopped per test).

``simulator`` is a running :class:`SimulatorServer` with the default configuration;
``make_simulator(**overrides)`` starts one with :class:`SimulatorConfig` fields overridden
(e.g. ``make_simulator(parts=3, users_per_org=10)``). ``s3_server`` is moto's S3 server on
127.0.0.1 (tests/harness/s3.py); ``s3_landing`` gives a test a fresh bucket on it with the AWS
variables set, and its ``COPILOT_LANDING_PATH``-style root ``s3://<bucket>/landing``.
Everything else lives in the package.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from copilot_dev.simulator import SimulatorConfig, SimulatorServer
from copilot_warehouse.extract.client import CopilotClient
from harness.s3 import LocalS3Server, s3_environment


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


@pytest.fixture(scope="session")
def s3_server() -> Iterator[LocalS3Server]:
    """moto's S3 server on a free port of 127.0.0.1, for the whole session."""
    with LocalS3Server() as server:
        yield server


@dataclass(frozen=True)
class S3Landing:
    server: LocalS3Server
    bucket: str

    @property
    def root(self) -> str:
        return f"s3://{self.bucket}/landing"


@pytest.fixture
def s3_landing(s3_server: LocalS3Server) -> Iterator[S3Landing]:
    """A fresh bucket, this process's AWS variables pointing at ``s3_server``, reset after."""
    bucket = s3_server.create_bucket(f"copilot-{uuid.uuid4().hex[:12]}")
    with s3_environment(s3_server.env()):
        yield S3Landing(s3_server, bucket)
