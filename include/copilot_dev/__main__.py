"""Development commands: ``python -m copilot_dev <command> [options]`` (``make run``, ``make backfill``,
``make airflow``, ``make simulator``). The product's own commands are ``python -m copilot_warehouse``.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("copilot_dev.run", "Run the pipeline end to end and print a summary of the marts."),
    "backfill": (
        "copilot_dev.run",
        "Fetch, land and transform a range of days (the simulator unless a token is set).",
    ),
    "airflow": ("copilot_dev.local_airflow", "Start Airflow locally with the simulator configured."),
    "simulator": ("copilot_dev.simulator.__main__", "Start the GitHub API simulator in the foreground."),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print("usage: python -m copilot_dev <command> [options]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<14} {text}")
        return 0 if not argv or argv[0] in {"-h", "--help"} else 2
    command, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[command][0])
    if command == "simulator":  # the simulator's own command line: main(argv)
        return int(module.main(rest) or 0)
    # The other command modules expose ``cli(command: str, argv: list[str]) -> int``.
    return int(module.cli(command, rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
