"""Run the GitHub Copilot API simulator from a shell.

``python -m copilot_dev.simulator --port 8000 --orgs octo-demo,acme-labs`` prints one JSON
line ``{"url": ...}`` on stdout (never the token) and serves until SIGINT or SIGTERM. The token
comes from ``--token`` or ``COPILOT_SIMULATOR_TOKEN`` (default ``sim-token``).

Answers of real deployments (see :mod:`copilot_dev.simulator.server`):

- ``--forbidden octo-demo,acme-labs``: every metrics call of those orgs or enterprises answers 403
  (the "Copilot usage metrics" policy is off, or the token lacks the permission); billing and
  seats still answer 200.
- ``--metrics-disabled octo-enterprise``: metrics calls answer 422 "Copilot Usage Metrics API
  setting is disabled at the organization or enterprise level".
- ``--unavailable-report acme-labs:repos-1-day`` (repeatable; ``slug:report,slug:report`` too):
  that report answers 404 for that scope while the others work.
- ``--messy``: serve the odd-but-real shapes of GitHub's data, drawn reproducibly from ``--seed``
  (:mod:`copilot_dev.simulator.messy`); ``--manifest PATH`` writes the JSON manifest of every
  oddity served (``Dataset.messy_manifest()``) before the URL is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date

from copilot_warehouse.config import ConfigError, parse_day

from copilot_dev.simulator.data import SimulatorConfig
from copilot_dev.simulator.server import SimulatorServer

ENV_TOKEN = "COPILOT_SIMULATOR_TOKEN"  # noqa: S105 - the variable name, not a token
_DEFAULTS = SimulatorConfig()


def _day(value: str) -> date:
    try:
        return parse_day(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _unavailable(value: str) -> list[tuple[str, str]]:
    out = []
    for item in _names(value):
        slug, sep, report = item.partition(":")
        if not sep or not slug.strip() or not report.strip():
            raise argparse.ArgumentTypeError(f"give slug:report (e.g. acme-labs:repos-1-day), not {item!r}")
        out.append((slug.strip(), report.strip()))
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(
        prog="python -m copilot_dev.simulator",
        description="Serve simulated GitHub Copilot usage metrics, seats and legacy metrics APIs.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port, 0 for any free port (default 8000)")
    p.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="data seed (default %(default)s)")
    p.add_argument("--orgs", type=_names, default=_DEFAULTS.orgs, help="comma-separated org slugs")
    p.add_argument(
        "--enterprises",
        type=_names,
        default=_DEFAULTS.enterprises,
        help="comma-separated enterprise slugs ('' for none)",
    )
    p.add_argument("--users", type=int, default=_DEFAULTS.users_per_org, help="members per org")
    p.add_argument("--start-day", type=_day, default=_DEFAULTS.start_day, help="first day with reports")
    p.add_argument("--end-day", type=_day, default=_DEFAULTS.end_day, help="last day with reports")
    p.add_argument("--parts", type=int, default=_DEFAULTS.parts, help="NDJSON parts per report")
    p.add_argument(
        "--link-ttl",
        type=int,
        default=_DEFAULTS.link_ttl_seconds,
        help="seconds a signed download link stays valid",
    )
    p.add_argument("--legacy-start", type=_day, default=None, help="first day the legacy API answers")
    p.add_argument("--legacy-end", type=_day, default=None, help="last day the legacy API answers")
    p.add_argument(
        "--forbidden",
        type=_names,
        default=_DEFAULTS.forbidden_scopes,
        help="comma-separated org/enterprise slugs whose metrics calls answer 403",
    )
    p.add_argument(
        "--metrics-disabled",
        type=_names,
        default=_DEFAULTS.metrics_disabled_scopes,
        help="comma-separated org/enterprise slugs whose metrics calls answer 422",
    )
    p.add_argument(
        "--unavailable-report",
        type=_unavailable,
        action="append",
        default=[],
        metavar="SLUG:REPORT",
        help="a report that answers 404 for a scope, e.g. acme-labs:repos-1-day (repeatable)",
    )
    p.add_argument(
        "--messy",
        action="store_true",
        default=_DEFAULTS.messy,
        help="serve the odd-but-real shapes of real GitHub data, drawn reproducibly from the seed",
    )
    p.add_argument(
        "--manifest", default=None, help="write the JSON manifest of every oddity served to this file"
    )
    p.add_argument("--token", default=None, help=f"accepted token (default ${ENV_TOKEN} or 'sim-token')")
    p.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server, print its URL as JSON, serve until SIGINT/SIGTERM; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = SimulatorConfig(
            seed=args.seed,
            orgs=args.orgs,
            enterprises=args.enterprises,
            users_per_org=args.users,
            start_day=args.start_day,
            end_day=args.end_day,
            token=args.token or os.environ.get(ENV_TOKEN) or "sim-token",
            parts=args.parts,
            link_ttl_seconds=args.link_ttl,
            legacy_start=args.legacy_start,
            legacy_end=args.legacy_end,
            forbidden_scopes=args.forbidden,
            metrics_disabled_scopes=args.metrics_disabled,
            unavailable_reports=[pair for group in args.unavailable_report for pair in group],
            messy=args.messy,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    server = SimulatorServer(config, host=args.host, port=args.port)
    if args.manifest:
        try:
            with open(args.manifest, "w", encoding="utf-8") as fh:
                json.dump(server.dataset.messy_manifest(), fh, indent=1)
        except OSError as exc:
            print(f"error: cannot write the manifest {args.manifest}: {exc}", file=sys.stderr)
            return 1
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"url": server.url}), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
