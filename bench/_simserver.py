"""Run ``copilot_dev.simulator.SimulatorServer`` in its own process for the benchmarks.

The server gets its own interpreter (and GIL), like GitHub is a separate machine, so generating
and serving reports does not compete with the code under test for one Python thread. The parent
talks to it over stdin/stdout, one JSON line each way:

- on start it prints ``{"url": ..., "token": ...}``;
- ``requests`` -> ``{"requests": [[method, path, status], ...]}`` and clears the log;
- ``quit`` -> stops the server and exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


class SimProcess:
    """Parent-side handle of a simulator running in a child process (a context manager)."""

    def __init__(self, *, users: int, start_day: date, end_day: date, parts: int = 2, org: str = "bench-org"):
        self.args = [
            "--users",
            str(users),
            "--start-day",
            start_day.isoformat(),
            "--end-day",
            end_day.isoformat(),
            "--parts",
            str(parts),
            "--org",
            org,
        ]
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.token = ""

    def __enter__(self) -> SimProcess:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_simserver.py"), *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            raise RuntimeError("the simulator process exited before printing its URL (see stderr above)")
        hello = json.loads(line)
        self.url, self.token = hello["url"], hello["token"]
        return self

    def take_requests(self) -> list[tuple[str, str, int]]:
        """The server's request log since the last call (then cleared)."""
        assert self.proc and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("requests\n")
        self.proc.stdin.flush()
        return [tuple(r) for r in json.loads(self.proc.stdout.readline())["requests"]]

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def classify(requests: list[tuple[str, str, int]]) -> dict[str, int]:
    """Count requests by kind: report-link calls per report, downloads, and everything else."""
    out: dict[str, int] = {"report_calls": 0, "downloads": 0, "other": 0, "non_2xx": 0}
    for _method, path, status in requests:
        if "/copilot/metrics/reports/" in path:
            out["report_calls"] += 1
            report = path.rsplit("/copilot/metrics/reports/", 1)[1]
            out[f"report:{report}"] = out.get(f"report:{report}", 0) + 1
        elif "/downloads/" in path:
            out["downloads"] += 1
        else:
            out["other"] += 1
            key = "other:" + "/".join(p if not p.isdigit() else "N" for p in path.split("/")[3:])
            out[key] = out.get(key, 0) + 1
        if not 200 <= int(status) < 300:
            out["non_2xx"] += 1
    out["total"] = len(requests)
    return out


def _serve(argv: list[str]) -> int:
    import argparse

    from copilot_dev.simulator import SimulatorConfig, SimulatorServer

    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--start-day", type=date.fromisoformat, required=True)
    ap.add_argument("--end-day", type=date.fromisoformat, required=True)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--org", default="bench-org")
    args = ap.parse_args(argv)
    cfg = SimulatorConfig(
        orgs=(args.org,),
        enterprises=(),
        users_per_org=args.users,
        start_day=args.start_day,
        end_day=args.end_day,
        parts=args.parts,
        link_ttl_seconds=3600,
    )
    with SimulatorServer(config=cfg) as server:
        print(json.dumps({"url": server.url, "token": cfg.token}), flush=True)
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "requests":
                log = list(server.requests)
                del server.requests[: len(log)]
                print(json.dumps({"requests": [list(r) for r in log]}), flush=True)
            elif cmd == "quit":
                break
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1:]))
