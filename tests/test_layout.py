"""The package layout: one folder per pipeline stage, and a product that imports no development tool.

``copilot_warehouse`` is what a deployment runs; ``copilot_dev`` (the simulator, ``make run``, the
local Airflow) and the test harnesses under ``tests/harness`` only serve development. Every module of
the product is imported in a fresh interpreter, and none of them may pull in a development module.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import copilot_warehouse

PACKAGE = Path(copilot_warehouse.__file__).resolve().parent
STAGES = ("extract", "land", "load", "pipeline", "transform", "serve")  # in data-flow order
DEV_PREFIXES = ("copilot_dev", "tests", "harness")


def _product_modules() -> list[str]:
    names = ["copilot_warehouse"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="copilot_warehouse."):
        names.append(info.name)
    return sorted(names)


def test_every_stage_has_its_own_folder():
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), f"copilot_warehouse/{stage}/ is missing"
    modules = _product_modules()
    # nothing of the product sits loose beside the stages but what every stage shares
    top = {m.split(".")[1] for m in modules if m.count(".") == 1}
    assert top == {*STAGES, "__main__", "config", "redact", "warehouse"}, top


def test_the_product_imports_no_development_tool():
    modules = _product_modules()
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    dev = [m for m in loaded if m.split(".")[0] in DEV_PREFIXES]
    assert dev == [], f"the product imported development modules: {dev}"
    assert len(modules) > 20 and set(modules) <= set(loaded)


def test_development_tools_and_airflow_pieces_live_apart():
    root = PACKAGE.parents[1]
    assert (root / "include" / "copilot_dev" / "simulator" / "__init__.py").is_file()
    assert (root / "include" / "copilot_dev" / "run.py").is_file()
    assert (root / "plugins" / "copilot_airflow" / "hooks.py").is_file()
    assert (root / "plugins" / "copilot_airflow" / "notify.py").is_file()
    assert (root / "tests" / "harness" / "distributed.py").is_file()
    assert not (PACKAGE / "demo.py").exists()
