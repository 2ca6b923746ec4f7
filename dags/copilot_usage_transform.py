"""DAG ``copilot_usage_transform``: ``dbt build`` the staging/intermediate/marts models, then the report.

Scheduled on the Asset the ingest DAG's load tasks emit, so it runs after every successful load.
Orchestration only; dbt and the report are run through the ``copilot_warehouse`` package.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, task
from copilot_airflow import notify
from copilot_warehouse import config

DOC_MD = """
### Copilot usage transform

Runs whenever `copilot_usage_ingest` loaded new raw data (Asset `duckdb://copilot/raw`):

1. **dbt_build** – `dbt build` (models + tests) of the project in `dbt/` against the warehouse
   (pool `duckdb_writer`: DuckDB allows one writer). A failing dbt test fails the task; its log
   shows the readable summary (which test, which model, how many rows). Checks on values
   GitHub supplies only warn: each anomaly is listed in the log (`source anomaly: ...`) and kept
   in `marts.fct_copilot_data_quality`. Emits `duckdb://copilot/marts`.
2. **build_report** – the static HTML report from the marts (next to the warehouse in `report/`).

See `docs/operations.md`.
"""


@dag(
    dag_id="copilot_usage_transform",
    schedule=[Asset(config.RAW_ASSET_URI)],  # data-aware: runs after each ingest load
    start_date=datetime(2025, 12, 14, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one dbt build at a time; later Asset events queue a single next run
    dagrun_timeout=timedelta(hours=2),  # a hung dbt build must not hold the writer pool forever
    tags=["copilot", "transform", "dbt"],
    doc_md=DOC_MD,
    default_args={
        "owner": "copilot-warehouse",
        "retries": 1,  # a lock held by a writer outside Airflow is worth one more try
        # Shortened by `make run` and the tests, whose `dags test` waits retry delays out.
        "retry_delay": timedelta(seconds=int(os.environ.get("COPILOT_TASK_RETRY_DELAY_SECONDS", "120"))),
        "on_failure_callback": notify.on_failure,
    },
)
def copilot_usage_transform():
    @task(
        pool=config.DUCKDB_POOL,  # dbt writes the warehouse; DuckDB allows one writer
        outlets=[Asset(config.MARTS_ASSET_URI)],
    )
    def dbt_build() -> dict:
        """Run ``dbt build``; fail with dbt's readable summary when a model or test fails."""
        from airflow.sdk.exceptions import AirflowFailException
        from copilot_warehouse.transform import dbt_runner, quality

        # Unit tests check SQL logic against fixed inputs: they run in CI (`make test`), not on every
        # load (dbt's advice); the data tests on the real rows all run here.
        result = dbt_runner.build(config.warehouse_path(), exclude="test_type:unit")
        print(result.summary)
        if not result.success:
            # Failing models/tests are data or code problems: retrying would only repeat them.
            raise AirflowFailException(f"dbt build failed:\n{result.summary}")
        # GitHub's odd values never stop the build: they are listed here, once per anomaly.
        anomalies = quality.anomaly_lines(config.warehouse_path())
        for line in anomalies:
            print(f"{quality.LINE_PREFIX}{line}")
        return {"success": True, "summary": str(result.summary)[:2000], "source_anomalies": len(anomalies)}

    @task(pool=config.DUCKDB_POOL)  # reads the marts; a DuckDB reader cannot open beside a writer
    def build_report(_: dict) -> str | None:
        """Build the HTML report (``build_report`` logs its path and size)."""
        from copilot_warehouse.serve.report import build_report as build

        return str(build(config.warehouse_path(), config.warehouse_path().parent / "report"))

    build_report(dbt_build())


copilot_usage_transform()
