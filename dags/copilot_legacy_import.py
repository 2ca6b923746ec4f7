"""DAG ``copilot_legacy_import``: load an archive saved from the retired legacy Copilot Metrics API.

The Airflow form of ``make import-legacy FILE=<path> ORG=<slug>``. Orchestration only: the import
is ``copilot_warehouse.extract.legacy.import_legacy`` (imported inside the task, so this file parses fast
and touches no file, database or Variable at import time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, Param, dag, task
from copilot_airflow import notify
from copilot_warehouse import config

DOC_MD = """
### Copilot legacy import

GitHub closed the legacy `GET /orgs/{org}/copilot/metrics` API on 2026-04-02. JSON saved from it
before then is the only usage history older than the usage metrics reports. Trigger this DAG
with:

- **file** – an archived answer of the legacy API (a JSON array of day objects, as GitHub sent
  it), or a folder of such files (`*.json`, `*.ndjson`), as a path the workers can read;
- **org** – the organization the archive belongs to.

1. **check_archive** – the slug is a valid org name and the path holds at least one file.
2. **import_archive** – one transaction per file replaces those days in
   `raw.copilot_legacy_metrics` (pool `duckdb_writer`: DuckDB allows one writer); objects without
   a valid `date` go to `raw.quarantine`. Emits `duckdb://copilot/raw`, so
   `copilot_usage_transform` rebuilds the marts: legacy days appear in `fct_copilot_usage_daily`
   with `source_api = 'legacy_metrics'` for the days the usage metrics reports do not cover.

Importing the same archive again gives the same rows. See `docs/sources.md`.
"""


@dag(
    dag_id="copilot_legacy_import",
    schedule=None,  # a one-off per archive, triggered by hand with its Params
    start_date=datetime(2025, 12, 14, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    tags=["copilot", "legacy", "import"],
    doc_md=DOC_MD,
    default_args={
        "owner": "copilot-warehouse",
        "retries": 1,  # a warehouse lock held by a writer outside Airflow is worth one more try
        "retry_delay": timedelta(minutes=2),
        "on_failure_callback": notify.on_failure,
    },
    params={
        "file": Param(
            type="string",
            minLength=1,
            description="Archived legacy /copilot/metrics JSON: a file, or a folder of *.json files.",
        ),
        "org": Param(
            type="string",
            minLength=1,
            maxLength=39,
            description="Organization slug the archive belongs to.",
        ),
    },
)
def copilot_legacy_import():
    @task
    def check_archive(**context) -> dict:
        """Validate the Params before taking the writer slot: the org slug and the archive path."""
        from airflow.sdk.exceptions import AirflowFailException
        from copilot_warehouse.extract import legacy

        params = context["params"]
        try:
            scope = config.Scope(config.ORGANIZATION, str(params["org"]).strip())
            files = legacy.archive_files(str(params["file"]).strip())
        except (config.ConfigError, legacy.LegacyImportError) as exc:
            raise AirflowFailException(str(exc)) from None  # a wrong Param does not get better on retry
        if not files:
            raise AirflowFailException(f"{params['file']}: no *.json or *.ndjson files in this folder")
        print(f"{scope.label}: {len(files)} archive file(s) to import")
        return {"file": str(params["file"]).strip(), "scope": scope.as_dict(), "files": len(files)}

    @task(
        pool=config.DUCKDB_POOL,  # DuckDB allows one writing process
        outlets=[Asset(config.RAW_ASSET_URI)],  # triggers copilot_usage_transform
    )
    def import_archive(checked: dict) -> dict:
        """Import every file of the archive into raw.copilot_legacy_metrics."""
        from airflow.sdk.exceptions import AirflowFailException
        from copilot_warehouse import warehouse
        from copilot_warehouse.extract import legacy

        scope = config.Scope.from_dict(checked["scope"])
        con = warehouse.connect(config.warehouse_path())
        try:
            result = legacy.import_legacy(con, checked["file"], scope)
        finally:
            con.close()
        for f in result["files"]:
            span = f"{f['first_day']}..{f['last_day']}"
            print(f"{f['file']}: {f['days']} days ({span}), {f['quarantined']} quarantined")
        print(f"{scope.label}: {result['days']} days imported, {result['quarantined']} quarantined")
        if result["errors"]:
            # The readable files are imported; the unreadable ones need fixing, not a retry.
            raise AirflowFailException(
                "some archive files could not be imported: " + " | ".join(result["errors"])
            )
        return {k: result[k] for k in ("load_id", "days", "first_day", "last_day", "quarantined")}

    import_archive(check_archive())


copilot_legacy_import()
