"""Command line: ``python -m copilot_warehouse <command> [options]`` (what the Makefile calls).

Each command lives in its own module and is imported only when used, so ``--help`` is fast.
``make run``, ``make airflow`` and ``make simulator`` are development tools: ``python -m copilot_dev``.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "backfill": (
        "copilot_warehouse.pipeline.backfill",
        "Fetch, land and transform a range of days without a scheduler.",
    ),
    "summary": (
        "copilot_warehouse.serve.summary",
        "Print rows per mart and the latest weekly acceptance rate.",
    ),
    "import-legacy": (
        "copilot_warehouse.extract.legacy",
        "Load archived legacy /copilot/metrics JSON into raw.",
    ),
    "report": ("copilot_warehouse.serve.report", "Build the static HTML usage report from the marts."),
    "export": ("copilot_warehouse.serve.export", "Write every mart as Parquet and CSV."),
    "usage": (
        "copilot_warehouse.serve.questions",
        "Totals, weekly trend and members for a scope and date range.",
    ),
    "docs": ("copilot_warehouse.transform.dbt_runner", "Build the dbt docs site."),
    "lint-sql": ("copilot_warehouse.transform.dbt_runner", "Lint the dbt SQL with sqlfluff."),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print("usage: python -m copilot_warehouse <command> [options]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<14} {text}")
        return 0 if not argv or argv[0] in {"-h", "--help"} else 2
    command, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[command][0])
    # Every command module exposes ``cli(command: str, argv: list[str]) -> int``.
    return int(module.cli(command, rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
