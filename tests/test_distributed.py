"""The distributed path: Airflow with CeleryExecutor on PostgreSQL and Redis, as real processes.

One cluster (``harness.distributed.LocalCeleryCluster``) serves the module: a fresh
PostgreSQL database, its own Redis database number, ``airflow db migrate``, the ``duckdb_writer``
pool (one slot), the scheduler, the dag-processor, the api-server and a Celery worker with three
slots, all started from this virtual environment. The simulator plays GitHub.

- A small sanity DAG proves the Celery path on its own: mapped tasks run side by side on worker
  slots, tasks in the writer pool run one at a time.
- A 14-day backfill of ``copilot_usage_ingest`` (created through the REST API) runs to success,
  triggers ``copilot_usage_transform`` through the Asset, and leaves marts equal to the ones the
  local path builds from the same days; fetch tasks overlapped, warehouse writers never did.
  The cluster's landing zone is on S3 (``s3://<bucket>/landing`` on moto's S3 server, started on
  127.0.0.1 by the test): the Celery workers write every partition there and the load tasks read
  it back, while the local path lands on a local folder, so equal marts prove the object-storage
  landing zone as well.

Everything is removed afterwards (processes, database, Redis keys), also when a test fails or the
cluster fails to start (tested too, with the interval arithmetic the checks rely on). Needs
PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and Redis on 127.0.0.1:6379; skipped with
the reason when they are not reachable.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from copilot_warehouse import config
from harness.distributed import (
    CLAIM_KEY,
    DEFAULT_PG_DSN,
    DEFAULT_REDIS_URL,
    ClusterError,
    LocalCeleryCluster,
    instant,
    max_concurrency,
    wait_until,
)
from harness.duck import schema_rows

ROOT = Path(__file__).resolve().parents[1]
INGEST_DAG = "copilot_usage_ingest"
TRANSFORM_DAG = "copilot_usage_transform"
ORGS = ("octo-demo", "acme-labs", "initech")
# Backfill logical dates 2026-11-03..2026-11-16 (06:00 UTC each): a run fetches report day L - 2,
# so the warehouse receives report days 2026-11-01..2026-11-14.
FIRST_LOGICAL_DAY = date(2026, 11, 3)
BACKFILL_DAYS = 14
FIRST_REPORT_DAY = FIRST_LOGICAL_DAY - timedelta(days=config.PUBLISH_LAG_DAYS)
LAST_REPORT_DAY = FIRST_REPORT_DAY + timedelta(days=BACKFILL_DAYS - 1)
# Columns that record when or how often something was fetched/loaded/built, not usage: each
# backfill run snapshots the seats again, so attempt counts and load times differ by design.
VOLATILE_COLUMN = re.compile(
    r"(loaded_at|load_id|built_at|fetched_at|_run_at|generated_at|finished_at|attempts|attempt_at)$"
)

SANITY_DAG = '''
"""Celery sanity check: three mapped tasks in parallel, then three writers in the one-slot pool."""
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="celery_sanity", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def celery_sanity():
    @task
    def fetch(i: int) -> int:
        import time

        time.sleep(3)  # long enough that parallel slots overlap
        return i

    @task(pool="duckdb_writer")
    def write(i: int) -> int:
        import time

        time.sleep(1)
        return i * 10

    write.expand(i=fetch.expand(i=[1, 2, 3]))


celery_sanity()
'''


# --- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        pytest.param([], 0, id="nothing ran"),
        pytest.param([("2026-11-25T10:00:00Z", "2026-11-25T10:00:05Z")], 1, id="one task"),
        pytest.param(
            [
                ("2026-11-25T10:00:00Z", "2026-11-25T10:00:05Z"),
                ("2026-11-25T10:00:05Z", "2026-11-25T10:00:09Z"),
            ],
            1,
            id="end touching the next start is serial",
        ),
        pytest.param(
            [
                ("2026-11-25T10:00:00Z", "2026-11-25T10:00:05Z"),
                ("2026-11-25T10:00:04.5Z", "2026-11-25T10:00:09Z"),
            ],
            2,
            id="half a second of overlap",
        ),
        pytest.param(
            [
                ("2026-11-25T10:00:00+00:00", "2026-11-25T10:00:10+00:00"),
                ("2026-11-25T10:00:01Z", "2026-11-25T10:00:02Z"),
                ("2026-11-25T10:00:01.5Z", "2026-11-25T10:00:03Z"),
                ("2026-11-25T10:00:20Z", "2026-11-25T10:00:21Z"),
            ],
            3,
            id="three at once, offsets written two ways",
        ),
    ],
)
def test_max_concurrency_counts_tasks_running_at_the_same_instant(intervals, expected) -> None:
    assert max_concurrency(intervals) == expected


@pytest.mark.distributed
def test_a_cluster_that_fails_to_start_leaves_no_database_or_redis_keys(tmp_path) -> None:
    """A broken start (here: migrate against a database that does not exist) cleans up after itself."""
    reason = _services_missing()
    if reason:
        pytest.skip(reason)
    import redis

    cluster = LocalCeleryCluster(
        home=tmp_path / "airflow",
        dags_folder=tmp_path,
        extra_env={
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://postgres@127.0.0.1:5432/no_such_db_here"
        },
    )
    with pytest.raises(ClusterError, match="airflow db migrate exited"), cluster:
        pytest.fail("the cluster must not start")
    assert not cluster.database_exists()
    assert cluster.redis_db is None and cluster.components == []
    claimed = [n for n in range(1, 16) if redis.Redis(db=n).get(CLAIM_KEY) == cluster.database.encode()]
    assert claimed == []


def _services_missing() -> str | None:
    """Why the distributed test cannot run here, or None when PostgreSQL and Redis answer."""
    try:
        import psycopg2
        import redis
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install psycopg2-binary redis)"
    try:
        psycopg2.connect(DEFAULT_PG_DSN, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return f"PostgreSQL not reachable at {DEFAULT_PG_DSN}: {exc}".strip()
    try:
        redis.Redis.from_url(DEFAULT_REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {DEFAULT_REDIS_URL}: {exc}"
    return None


@pytest.fixture(scope="module")
def simulator():
    """The GitHub API simulator with three orgs, on a free port of 127.0.0.1."""
    from copilot_dev.simulator import SimulatorConfig, SimulatorServer

    server = SimulatorServer(SimulatorConfig(orgs=ORGS, enterprises=(), users_per_org=12))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _project_env(sim_url: str, token: str, data_dir: Path) -> dict[str, str]:
    """The project's settings (DESIGN §3) pointing at the simulator and at ``data_dir``."""
    return {
        "AIRFLOW_CONN_GITHUB_COPILOT": json.dumps({"conn_type": "http", "host": sim_url, "password": token}),
        "AIRFLOW_VAR_COPILOT_ORGS": json.dumps(list(ORGS)),
        "AIRFLOW_VAR_COPILOT_ENTERPRISES": "[]",
        config.ENV_WAREHOUSE: str(data_dir / "warehouse.duckdb"),
        config.ENV_LANDING: str(data_dir / "landing"),
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, simulator, s3_server):
    """A running Celery cluster over the sanity DAG and the project's DAGs; torn down after.

    Its landing zone is a fresh bucket on ``s3_server``: the workers get the endpoint and the
    (fake) credentials through the AWS variables of their environment.
    """
    reason = _services_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("distributed")
    dags = root / "dags"
    dags.mkdir()
    (dags / "celery_sanity.py").write_text(SANITY_DAG, encoding="utf-8")
    for dag_file in (ROOT / "dags").glob("copilot_usage_*.py"):
        shutil.copy(dag_file, dags / dag_file.name)
    env = _project_env(simulator.url, simulator.config.token, root / "data")
    # Only backfill runs: a start date far ahead keeps the scheduler from adding today's run.
    env["COPILOT_INGEST_START"] = "2099-01-01"
    env["COPILOT_DBT_TARGET_PATH"] = str(root / "dbt-target")  # not the checkout's dbt/target
    bucket = s3_server.create_bucket(f"copilot-dist-{uuid.uuid4().hex[:10]}")
    env[config.ENV_LANDING] = f"s3://{bucket}/landing"
    env.update(s3_server.env())
    instance = LocalCeleryCluster(
        home=root / "airflow", dags_folder=dags, worker_concurrency=3, parallelism=6, extra_env=env
    )
    with instance:
        yield instance
    # Teardown left nothing behind.
    assert not instance.database_exists(), f"database {instance.database} survived teardown"
    assert all(not c.alive() for c in instance.components)


def _celery_task_count(cluster: LocalCeleryCluster) -> int:
    """How many task workloads the Celery worker received (its own log lines)."""
    log = (cluster.home / "celery-worker.log").read_text(encoding="utf-8", errors="replace")
    return log.count("] received")


@pytest.mark.distributed
@pytest.mark.integration
@pytest.mark.timeout(900)
def test_celery_worker_runs_tasks_in_parallel_while_the_pool_serialises_writers(cluster) -> None:
    cluster.wait_for_dags(["celery_sanity"], files=["celery_sanity.py"])
    cluster.unpause("celery_sanity")
    run = cluster.api("POST", "/dags/celery_sanity/dagRuns", json={"logical_date": None})

    runs = cluster.wait_for_runs("celery_sanity", count=1, timeout=240)

    assert [r["state"] for r in runs] == ["success"]
    tis = cluster.task_instances("celery_sanity", run["dag_run_id"])
    fetches = [(t["start_date"], t["end_date"]) for t in tis if t["task_id"] == "fetch"]
    writes = [(t["start_date"], t["end_date"]) for t in tis if t["task_id"] == "write"]
    assert len(fetches) == 3 and len(writes) == 3
    assert {t["state"] for t in tis} == {"success"}
    assert {t["pool"] for t in tis if t["task_id"] == "write"} == {config.DUCKDB_POOL}
    assert max_concurrency(fetches) >= 2, f"fetch tasks ran one after another: {fetches}"
    assert max_concurrency(writes) == 1, f"pool writers overlapped: {writes}"
    # The tasks went through Celery: the worker received one workload per task instance.
    assert _celery_task_count(cluster) >= len(tis)
    assert cluster.task_log("celery_sanity", run["dag_run_id"], "write", map_index=2).count("Returned value")


# --- the project's DAGs ----------------------------------------------------------------------------


def _mart_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every marts.* table, sorted rows, without the columns that record ingest history."""
    return schema_rows(warehouse, "marts", lambda c: c.startswith("_") or bool(VOLATILE_COLUMN.search(c)))


def _run_local_path(simulator, data_dir: Path) -> Path:
    """The same report days without Airflow: ``ingest.run_range`` then ``dbt_runner.build``.

    These are the functions the DAG tasks call (fetch, snapshot, load, dbt build), run in one
    process, so any difference in the marts comes from the distributed execution.
    """
    from copilot_warehouse.extract.client import CopilotClient
    from copilot_warehouse.pipeline import ingest
    from copilot_warehouse.transform import dbt_runner

    warehouse = data_dir / "warehouse.duckdb"
    days = [FIRST_REPORT_DAY + timedelta(days=i) for i in range(BACKFILL_DAYS)]
    summary = ingest.run_range(
        CopilotClient(simulator.url, simulator.config.token),
        [config.Scope(config.ORGANIZATION, org) for org in ORGS],
        days,
        str(data_dir / "landing"),
        warehouse,
        snapshot_day=datetime.now(UTC).date(),  # the DAG snapshots "today" in UTC too
        latest_28_day=True,  # the DAG's fetch lands the *-28-day/latest reports as well
    )
    assert not summary["errors"], summary["errors"]
    result = dbt_runner.build(warehouse_path=warehouse, target_path=data_dir / "dbt-target", isolated=True)
    assert result.success, result.summary
    return warehouse


@pytest.mark.distributed
@pytest.mark.integration
@pytest.mark.timeout(900)
def test_backfill_on_celery_builds_the_same_marts_as_the_local_path(
    cluster, simulator, s3_server, tmp_path
) -> None:
    cluster.wait_for_dags(
        [INGEST_DAG, TRANSFORM_DAG], timeout=180, files=[f"{INGEST_DAG}.py", f"{TRANSFORM_DAG}.py"]
    )
    cluster.unpause(INGEST_DAG)
    cluster.unpause(TRANSFORM_DAG)
    backfill = cluster.api(
        "POST",
        "/backfills",
        json={
            "dag_id": INGEST_DAG,
            "from_date": f"{FIRST_LOGICAL_DAY.isoformat()}T00:00:00Z",
            "to_date": f"{(FIRST_LOGICAL_DAY + timedelta(days=BACKFILL_DAYS - 1)).isoformat()}T23:00:00Z",
            "max_active_runs": 4,
            # One report day per run (no trailing re-pull, no gap repair): runs do not overlap.
            "dag_run_conf": {"repull_days": 0, "repair_gaps": False},
        },
    )
    assert backfill["dag_id"] == INGEST_DAG

    started = time.monotonic()
    ingest_runs = cluster.wait_for_runs(INGEST_DAG, count=BACKFILL_DAYS, timeout=600)

    assert len(ingest_runs) == BACKFILL_DAYS
    assert {r["run_type"] for r in ingest_runs} == {"backfill"}
    assert {r["state"] for r in ingest_runs} == {"success"}
    ingest_tis = cluster.task_instances(INGEST_DAG)
    loads = [t for t in ingest_tis if t["task_id"].endswith(".load")]
    assert len(loads) == BACKFILL_DAYS * len(ORGS)
    assert {t["state"] for t in loads} == {"success"}

    # The Asset the loads emit triggers the transform; wait until a run after the last load is done.
    last_load_end = max(instant(t["end_date"]) for t in loads)

    def transform_caught_up() -> list[dict] | None:
        cluster.check_components()
        runs = cluster.dag_runs(TRANSFORM_DAG)
        failed = [r["dag_run_id"] for r in runs if r["state"] == "failed"]
        if failed:
            bad = [t for t in cluster.task_instances(TRANSFORM_DAG, failed[0]) if t["state"] == "failed"]
            logs = [
                cluster.task_log(TRANSFORM_DAG, failed[0], t["task_id"], t["try_number"])[-3000:] for t in bad
            ]
            raise ClusterError(f"{TRANSFORM_DAG} run {failed[0]} failed; end of its log:\n" + "\n".join(logs))
        done = all(r["state"] == "success" for r in runs)
        queued = [instant(r["queued_at"]) for r in runs if r["queued_at"]]
        return runs if runs and done and queued and max(queued) >= last_load_end else None

    transform_runs = wait_until(transform_caught_up, 300, "the Asset-triggered transform", interval=3)
    assert {r["run_type"] for r in transform_runs} == {"asset_triggered"}
    elapsed = time.monotonic() - started
    print(f"backfill + transform on Celery: {elapsed:.0f}s, {len(transform_runs)} transform runs")

    # Fetch tasks of different scopes and runs ran side by side on the worker's slots ...
    fetches = [(t["start_date"], t["end_date"]) for t in ingest_tis if t["task_id"].endswith(".fetch")]
    assert max_concurrency(fetches) >= 2, "fetch tasks never overlapped"
    # ... and no two warehouse writers (ingest or transform) ever did.
    writers = [
        (t["start_date"], t["end_date"])
        for t in ingest_tis + cluster.task_instances(TRANSFORM_DAG)
        if t["pool"] == config.DUCKDB_POOL and t["start_date"]
    ]
    assert len(writers) >= len(loads)
    assert max_concurrency(writers) == 1, "two tasks of the duckdb_writer pool ran at the same time"

    # The workers landed every partition on S3 (the moto bucket), none on the local disk.
    landing = cluster.extra_env[config.ENV_LANDING]
    bucket = landing.removeprefix("s3://").split("/", 1)[0]
    manifests = [k for k in s3_server.keys(bucket, "landing/") if k.endswith("/_manifest.json")]
    usage_manifests = [k for k in manifests if "/users-1-day/" in k]
    assert len(usage_manifests) == BACKFILL_DAYS * len(ORGS), usage_manifests
    assert not (Path(cluster.extra_env[config.ENV_WAREHOUSE]).parent / "landing").exists()

    # Same days through the local path, then the marts must match row for row.
    distributed = _mart_rows(Path(cluster.extra_env[config.ENV_WAREHOUSE]))
    local = _mart_rows(_run_local_path(simulator, tmp_path / "local"))
    assert set(distributed) >= {
        "fct_copilot_usage_daily",
        "fct_copilot_acceptance_weekly",
        "fct_copilot_member_daily",
        "fct_copilot_member_summary",
    }
    daily = distributed["fct_copilot_usage_daily"]
    assert len(daily) == BACKFILL_DAYS * len(ORGS), "one row per org and report day"
    assert set(distributed) == set(local)
    for table in sorted(distributed):
        assert distributed[table] == local[table], f"marts.{table} differs between Celery and the local path"
    # The token never reached a task log.
    any_fetch = next(t for t in ingest_tis if t["task_id"].endswith(".fetch"))
    text = cluster.task_log(
        INGEST_DAG, any_fetch["dag_run_id"], any_fetch["task_id"], map_index=any_fetch["map_index"]
    )
    assert text and simulator.config.token not in text
