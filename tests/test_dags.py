"""DAG integrity: every DAG file parses without errors, fast, with the settings operations rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from copilot_warehouse import config

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))
# Writers of the DuckDB file: each must be in the one-slot pool (DuckDB allows one writer).
WRITERS = {
    "copilot_usage_ingest": {"ingest_scope.load", "plan", "run_summary"},
    "copilot_usage_transform": {"dbt_build", "build_report"},
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER), safe_mode=False)


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= {"copilot_usage_ingest", "copilot_usage_transform"}
    assert len(dagbag.dag_ids) == len(DAG_FILES)  # one DAG per file, none silently skipped


def test_every_dag_has_tags_docs_retries_and_an_explicit_schedule(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert "copilot" in dag.tags, dag_id
        assert dag.doc_md and dag.doc_md.strip(), dag_id
        assert dag.timetable is not None, dag_id
        for t in dag.tasks:
            if t.task_id != "run_summary":  # a summary is not worth retrying
                assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


@pytest.mark.parametrize("dag_id", ["copilot_usage_ingest", "copilot_usage_transform"])
def test_pipeline_dags_run_one_at_a_time_and_alert_on_failure(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.max_active_runs == 1
    for t in dag.tasks:
        assert t.on_failure_callback, f"{t.task_id} has no failure alert"


def test_ingest_schedule_is_explicit_daily_cron_in_utc(dagbag):
    from airflow.sdk import CronTriggerTimetable

    dag = dagbag.dags["copilot_usage_ingest"]
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == "0 6 * * *"
    assert str(dag.timetable.timezone) in {"UTC", "Timezone('UTC')"}
    assert set(dag.params) >= {"start_day", "end_day", "repull_days"}
    assert dag.params["start_day"] is None


def test_transform_is_scheduled_on_the_raw_asset(dagbag):
    dag = dagbag.dags["copilot_usage_transform"]
    condition = dag.timetable.asset_condition
    assert [a.uri for a in condition.objects] == [config.RAW_ASSET_URI]


@pytest.mark.parametrize(("dag_id", "task_ids"), list(WRITERS.items()))
def test_duckdb_tasks_share_the_one_slot_pool(dagbag, dag_id, task_ids):
    dag = dagbag.dags[dag_id]
    for task_id in task_ids:
        assert dag.get_task(task_id).pool == config.DUCKDB_POOL, task_id
    others = {t.task_id for t in dag.tasks} - task_ids
    for task_id in others:  # network-only tasks must not hold the writer slot
        assert dag.get_task(task_id).pool != config.DUCKDB_POOL, task_id


def test_ingest_load_emits_the_raw_asset_and_fetch_is_mapped_per_scope(dagbag):
    dag = dagbag.dags["copilot_usage_ingest"]
    load = dag.get_task("ingest_scope.load")
    assert [o.uri for o in load.outlets] == [config.RAW_ASSET_URI]
    for task_id in ("ingest_scope.check_availability", "ingest_scope.fetch", "ingest_scope.load"):
        from airflow.sdk.definitions.taskgroup import MappedTaskGroup

        assert isinstance(dag.get_task(task_id).task_group, MappedTaskGroup), task_id
    assert dag.get_task("run_summary").trigger_rule == "all_done"


_IMPORT_TIMER = """
import importlib.util, json, sys, time
from airflow.sdk import dag, task, task_group, Param, Asset, CronTriggerTimetable

# Airflow's own lazy imports (decorators, operators) are its cost, not the DAG file's: warm them up.
@dag(schedule=None)
def warm_up():
    @task_group
    def group(x):
        task(lambda x: x).override(task_id="t")(x)
    group.expand(x=[1])
warm_up()

spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
start = time.perf_counter()
spec.loader.exec_module(module)
elapsed = time.perf_counter() - start
heavy = sorted(m for m in ("duckdb", "pandas", "requests", "dbt", "pyarrow") if m in sys.modules)
print(json.dumps({"seconds": elapsed, "heavy": heavy}))
"""


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_dag_file_imports_fast_without_heavy_modules(dag_file):
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_TIMER, str(dag_file)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{dag_file.name} imports {result['heavy']} at parse time"
    assert result["seconds"] < 0.2, f"{dag_file.name} took {result['seconds']:.3f}s beyond airflow.sdk"
