"""The static HTML usage report: ``python -m copilot_warehouse report`` / ``make report``.

Reads the ``marts`` schema of the DuckDB warehouse read-only and writes one self-contained page
(styles, chart data and plotly.js inline, so it opens offline and makes no network request): an
overview across organizations and enterprises, then a section per scope with KPI cards, active
users over time, the weekly acceptance trend by count and by code completion lines, breakdowns by
language, IDE, model and feature, top members, pull requests and time to merge (approximate),
code review and cloud agent users, top repositories by agent pull requests, inactive and
never-used seats, and data health. A panel whose mart is missing or empty says so instead of
showing a chart. ``docs/report.md`` lists the panels.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot_warehouse import __version__, config, warehouse

log = logging.getLogger(__name__)

DEFAULT_OUT_DIR = "data/report"
REPORT_FILE = "index.html"
TITLE = "GitHub Copilot usage report"


class ReportError(RuntimeError):
    """The report cannot be built (e.g. the warehouse file does not exist)."""


def render_html(con: Any, *, warehouse_name: str = "", generated_at: datetime | None = None) -> str:
    """Render the report page from an open (read-only) DuckDB connection.

    Args:
        con: a ``duckdb.DuckDBPyConnection`` on the warehouse.
        warehouse_name: file name shown in the page header.
        generated_at: timestamp shown in the header (default: now, UTC).

    Returns:
        The complete HTML document.
    """
    import jinja2
    from plotly.offline import get_plotlyjs

    from copilot_warehouse.serve.report import charts, panels
    from copilot_warehouse.serve.report.data import MartReader

    reader = MartReader(con)
    scopes = reader.scopes()
    overview = panels.overview(reader, scopes)
    sections = [panels.scope_section(reader, s) for s in scopes]
    specs = {p.id: p.figure for p in [*overview.panels, *(p for s in sections for p in s.panels)] if p.figure}
    latest = [r["last_day"] for r in overview.scope_rows if r.get("last_day")]

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("copilot_warehouse.serve.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = panels.fmt
    stamp = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return env.get_template("report.html").render(
        title=TITLE,
        version=__version__,
        generated_at=stamp,
        warehouse_name=warehouse_name,
        latest_day=max(latest) if latest else None,
        overview=overview,
        sections=sections,
        chart_specs=charts.script_json(specs),
        plot_config=json.dumps(charts.PLOT_CONFIG),
        plotly_js=get_plotlyjs(),
    )


def build_report(warehouse_path: str | Path | None = None, out_dir: str | Path | None = None) -> Path:
    """Build the HTML report from the warehouse's marts.

    Args:
        warehouse_path: DuckDB file; default ``config.warehouse_path()`` (``COPILOT_WAREHOUSE_PATH``).
        out_dir: folder for ``index.html``; default ``data/report``.

    Returns:
        The path of the written ``index.html``.

    Raises:
        ReportError: the warehouse file does not exist.
    """
    path = Path(warehouse_path or config.warehouse_path())
    if not path.is_file():
        raise ReportError(
            f"the warehouse {path} does not exist: run `make run` (or the pipeline) first, "
            f"or point {config.ENV_WAREHOUSE} at your DuckDB file"
        )
    out = Path(out_dir or DEFAULT_OUT_DIR)
    out.mkdir(parents=True, exist_ok=True)
    con = warehouse.connect(path, read_only=True)
    try:
        html = render_html(con, warehouse_name=path.name)
    finally:
        con.close()
    target = out / REPORT_FILE
    # Write then rename, so a browser never opens half a report.
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".index-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    # mkstemp makes the file 0600; the report is for anyone who can read its folder (a web
    # server, colleagues), like the warehouse and landing files next to it.
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    log.info("report written to %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


def cli(command: str, argv: list[str]) -> int:
    """``python -m copilot_warehouse report [--warehouse PATH] [--out-dir DIR]``.

    Args:
        command: the command name (``report``).
        argv: the remaining arguments.

    Returns:
        0 on success, 1 when the report could not be built.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m copilot_warehouse {command}", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--warehouse", help=f"DuckDB file (default ${config.ENV_WAREHOUSE} or {config.DEFAULT_WAREHOUSE})"
    )
    parser.add_argument(
        "--out-dir", default=DEFAULT_OUT_DIR, help=f"output folder (default {DEFAULT_OUT_DIR})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        path = build_report(args.warehouse, args.out_dir)
    except (ReportError, warehouse.WarehouseLockedError) as exc:
        log.error("%s", exc)
        return 1
    print(path)
    return 0
