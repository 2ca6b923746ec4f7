"""The README is part of the product: its set-up commands come first and its cookbook runs.

Every ```sql block of the "Query cookbook" section is executed against marts built by the real
dbt project from simulator data, so a renamed column breaks this test, not an analyst's query.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from copilot_dev.simulator import Dataset, SimulatorConfig
from copilot_warehouse import warehouse
from copilot_warehouse.config import day_range
from copilot_warehouse.transform import dbt_runner
from harness.raw_fixtures import load_days, load_snapshots

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()


def cookbook_queries() -> list[tuple[str, str]]:
    """(title, sql) for each SQL block of the cookbook section."""
    section = TEXT.split("### Query cookbook", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"\n([^\n`]+):\n\n```sql\n(.*?)```", section, flags=re.S)
    return [(title.strip(), sql.strip().rstrip(";")) for title, sql in found]


def test_the_two_setup_commands_come_first():
    before_first_section = TEXT.split("\n## ", 1)[0]
    assert "make run" in before_first_section
    assert "make test" in before_first_section


def test_the_cookbook_answers_the_questions_analysts_ask():
    titles = " | ".join(t.lower() for t, _ in cookbook_queries())
    for question in ("acceptance trend by language", "inactive seats", "top adopters", "team adoption",
                     "agent-mode uptake"):
        assert question in titles


@pytest.fixture(scope="module")
def marts(tmp_path_factory) -> Path:
    config = SimulatorConfig(start_day=date(2026, 10, 26), end_day=date(2026, 11, 15), users_per_org=12)
    dataset = Dataset(config)
    root = tmp_path_factory.mktemp("readme")
    path = root / "warehouse.duckdb"
    con = warehouse.connect(path)
    loaded_at = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    days = day_range(config.start_day, config.end_day)
    load_days(con, dataset, days, load_id="readme", loaded_at=loaded_at)
    load_snapshots(con, dataset, load_id="readme", loaded_at=loaded_at)
    con.close()
    result = dbt_runner.build(path, target_path=root / "target")
    assert result.success, result.summary
    return path


@pytest.mark.integration
@pytest.mark.parametrize(("title", "sql"), [pytest.param(t, s, id=t) for t, s in cookbook_queries()])
def test_cookbook_query_runs_and_returns_rows(marts, title, sql):
    con = duckdb.connect(str(marts), read_only=True)
    try:
        result = con.execute(sql).fetchall()
    finally:
        con.close()
    assert result, f"the cookbook query {title!r} returned no rows on the simulator's data"
