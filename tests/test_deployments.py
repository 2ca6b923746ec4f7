"""Every shape people deploy, through the real DAGs as ``make run`` runs them.

The real simulator on 127.0.0.1, ``airflow dags test`` of both DAGs (``copilot_dev.run.run_pipeline``, the
code path of ``make run``), a real DuckDB file and real ``dbt build``. Shapes: one org; one
enterprise and no orgs; an org and an enterprise (with a report GitHub does not offer for the
org); several orgs of which one answers 404, one 403 (policy off) and one 422; no scope at all;
a wrong token; a scope whose every report answers 403. The run succeeds when one scope loaded and
names the skipped ones with their reason; when nothing loaded it ends with one line saying why,
after the transform built the (empty) marts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from copilot_dev import airflow_env
from copilot_dev import run as make_run
from copilot_dev.simulator import SimulatorConfig, SimulatorServer
from copilot_warehouse import warehouse as wh

pytestmark = pytest.mark.integration

START, END = date(2026, 11, 9), date(2026, 11, 11)
TOKEN = "sim-token"
CORE_MARTS = (
    "fct_copilot_usage_daily",
    "fct_copilot_acceptance_weekly",
    "fct_copilot_member_daily",
    "fct_copilot_member_summary",
    "fct_copilot_data_health",
)


@dataclass(frozen=True)
class Shape:
    """One deployment: what the simulator serves and what the pipeline is configured with."""

    sim: dict
    orgs: list[str] | None
    enterprises: list[str] | None = None
    token: str = TOKEN
    transform: bool = True  # also run the transform DAG (the dbt build) as make run does
    expect_loaded: tuple[str, ...] = ()
    expect_lines: tuple[str, ...] = ()
    expect_failure: str | None = None  # a text in the one line of a run that loaded nothing
    expect_unavailable: dict = field(default_factory=dict)  # scope name -> report not offered


SHAPES = {
    "one org": Shape(
        sim={"orgs": ("solo-org",), "enterprises": ()},
        orgs=["solo-org"],
        expect_loaded=("organization:solo-org",),
        expect_lines=("1 of 1 scope(s) loaded",),
    ),
    "one enterprise, no orgs": Shape(
        sim={"orgs": ("ent-member-org",), "enterprises": ("solo-ent",)},
        orgs=None,
        enterprises=["solo-ent"],
        expect_loaded=("enterprise:solo-ent",),
        expect_lines=("1 of 1 scope(s) loaded",),
    ),
    "org and enterprise, a report not offered for the org": Shape(
        sim={
            "orgs": ("octo-demo",),
            "enterprises": ("octo-enterprise",),
            "unavailable_reports": {"octo-demo": ("repos-1-day",)},
        },
        orgs=["octo-demo"],
        enterprises=["octo-enterprise"],
        expect_loaded=("organization:octo-demo", "enterprise:octo-enterprise"),
        expect_lines=(
            "2 of 2 scope(s) loaded",
            "organization:octo-demo repos-1-day: not offered for this organization (HTTP 404)",
        ),
        expect_unavailable={"octo-demo": "repos-1-day"},
    ),
    "orgs answering 404, 403 and 422 beside a good one": Shape(
        sim={
            "orgs": ("good-org", "policy-off", "disabled-org"),
            "enterprises": (),
            "forbidden_scopes": ("policy-off",),
            "metrics_disabled_scopes": ("disabled-org",),
        },
        orgs=["good-org", "ghost-org", "policy-off", "disabled-org"],
        transform=False,
        expect_loaded=("organization:good-org",),
        expect_lines=(
            "1 of 4 scope(s) loaded",
            "organization:ghost-org: skipped - not found",
            "organization:policy-off: skipped - the token lacks the needed scope or role, or the "
            "enterprise policy 'Copilot usage metrics' is not 'Enabled everywhere'",
            "organization:disabled-org: skipped - the Copilot usage metrics API setting is disabled",
        ),
    ),
    "no scope configured": Shape(
        sim={"orgs": ("solo-org",), "enterprises": ()},
        orgs=[],
        transform=False,
        expect_failure="Airflow Variable copilot_orgs is an empty list",
    ),
    "wrong token": Shape(
        sim={"orgs": ("solo-org",), "enterprises": ()},
        orgs=["solo-org"],
        token="not-the-token",
        expect_failure="nothing was loaded: organization:solo-org: skipped - the token was rejected",
    ),
    "every report answers 403": Shape(
        sim={"orgs": ("policy-off",), "enterprises": (), "forbidden_scopes": ("policy-off",)},
        orgs=["policy-off"],
        transform=False,
        expect_failure="nothing was loaded: organization:policy-off: skipped - the token lacks",
    ),
}


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory) -> Path:
    """One prepared Airflow home (metadata database and pool) shared by every shape."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = airflow_env.build_env(home=home, base=_clean_base())
    airflow_env.prepare(env)
    return home


def _clean_base() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "COPILOT_"))}


def _log_text(log_dir: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(log_dir.glob("*.log")))


def _mart_rows(path: Path) -> dict[str, int]:
    con = wh.connect(path, read_only=True)
    try:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return {t: con.execute(f'select count(*) from marts."{t}"').fetchall()[0][0] for (t,) in tables}
    finally:
        con.close()


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_deployment_shape_runs_or_says_why_in_one_line(name, airflow_home, tmp_path):
    shape = SHAPES[name]
    sim_config = SimulatorConfig(users_per_org=6, **shape.sim)
    with SimulatorServer(sim_config) as server:
        env = airflow_env.build_env(
            home=airflow_home,
            connection=airflow_env.connection_json(server.url, shape.token),
            orgs=shape.orgs,
            enterprises=shape.enterprises,
            warehouse=tmp_path / "warehouse.duckdb",
            landing=tmp_path / "landing",
            base=_clean_base(),
        )
        env["COPILOT_TASK_RETRY_DELAY_SECONDS"] = "1"
        log_dir = tmp_path / "logs"
        if shape.transform:
            run = lambda: make_run.run_pipeline(env, START, END, log_dir=log_dir)  # noqa: E731
        else:
            run = lambda: make_run.run_dag(  # noqa: E731
                env,
                "copilot_usage_ingest",
                {"start_day": START.isoformat(), "end_day": END.isoformat()},
                log_dir=log_dir,
            )
        if shape.expect_failure:
            with pytest.raises(make_run.PipelineError) as info:
                run()
            message = str(info.value)
            if "nothing was loaded" in shape.expect_failure:
                assert isinstance(info.value, make_run.NothingLoadedError)
                assert "\n" not in message and message.startswith(shape.expect_failure), message
            else:
                assert shape.expect_failure in message or shape.expect_failure in _log_text(log_dir)
        else:
            run()
        requests = list(server.requests)
    log = _log_text(log_dir)
    for line in shape.expect_lines:
        assert line in log, f"{line!r} not in the run's log"
    if name == "no scope configured":
        assert requests == []  # a clear error before any work
        return
    rows = _mart_rows(tmp_path / "warehouse.duckdb") if shape.transform else {}
    if shape.transform:
        assert set(CORE_MARTS) <= set(rows), "every mart is built"
    if shape.expect_failure:  # nothing loaded: empty marts, raw schema there from the set-up
        assert not any(rows.values()), rows
        con = wh.connect(tmp_path / "warehouse.duckdb", read_only=True)
        try:
            assert con.execute("select count(*) from raw.ingest_log").fetchall() == [(0,)]
        finally:
            con.close()
        return
    con = wh.connect(tmp_path / "warehouse.duckdb", read_only=True)
    try:
        loaded = {
            f"{t}:{n}"
            for t, n in con.execute(
                "select distinct scope_type, scope_name from raw.ingest_log where status = 'loaded'"
            ).fetchall()
        }
        failed = con.execute("select count(*) from raw.ingest_log where status = 'failed'").fetchall()
        for scope_name, report in shape.expect_unavailable.items():
            [(unavailable, days_failed)] = con.execute(
                "select unavailable_reports, days_failed from marts.fct_copilot_data_health "
                "where scope_name = ?",
                [scope_name],
            ).fetchall()
            assert report in unavailable and days_failed == 0
        if shape.transform:
            # a first load brings no "new schema key": every key is as old as its report
            assert con.execute(
                "select max(new_schema_keys) from marts.fct_copilot_data_health"
            ).fetchall() == [(0,)]
            days = con.execute(
                "select scope_type || ':' || scope_name, count(*) "
                "from marts.fct_copilot_usage_daily group by 1"
            ).fetchall()
    finally:
        con.close()
    assert loaded == set(shape.expect_loaded)
    assert failed == [(0,)]
    if shape.transform:
        assert dict(days) == {label: (END - START).days + 1 for label in shape.expect_loaded}
