"""``make airflow`` as a test fixture: start ``python -m copilot_dev airflow`` and stop it like Ctrl-C.

:func:`running` starts it in its own process group on ``port`` with ``home`` as AIRFLOW_HOME,
waits for the ``Login: admin / <password>`` line it prints once the UI answers, yields the
process, that password and the output lines read so far, and on exit sends SIGINT to the group
(SIGKILL after two minutes). Used by tests/test_local_airflow.py and the plugin's browser test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from copilot_dev import local_airflow


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalAirflow:
    proc: subprocess.Popen
    password: str
    base: str
    lines: list[str] = field(default_factory=list)


@contextmanager
def running(home: Path, port: int, env: Mapping[str, str], *extra_args: str) -> Iterator[LocalAirflow]:
    """Run ``make airflow`` (``python -m copilot_dev airflow``) until the block ends.

    Raises:
        AssertionError: it never printed the login line within its ready timeout (+60 s).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot_dev", "airflow", "--home", str(home), "--port", str(port)]
        + list(extra_args),
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + local_airflow.READY_TIMEOUT + 60
        password = None
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.match(r"Login: admin / (\S+)", line)
            if match:
                password = match.group(1)
                break
        assert password, "make airflow never printed the login:\n" + "".join(lines[-30:])
        yield LocalAirflow(proc, password, f"http://127.0.0.1:{port}", lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
