"""Copilot Usage Warehouse: fetch, land and load GitHub Copilot usage metrics into DuckDB.

The product: one subpackage per stage of the data flow, in order; Airflow DAG files under
``dags/`` only orchestrate it, and the Airflow-facing pieces (the hook, alert callbacks) live in
``plugins/copilot_airflow``. Development tools (the simulator, ``make run``) are ``copilot_dev``,
which this package never imports.

- ``config``, ``redact``, ``warehouse``  shared by every stage: settings, secret redaction, DuckDB
- ``extract``    ask GitHub: the reports API client, report availability, the legacy API
- ``land``       the landing zone: downloaded report parts, immutable and replayable
- ``load``       landing-zone files -> ``raw`` tables (one transaction per scope/report/day)
- ``pipeline``   which scopes and days; the one fetch-and-load path; ``make backfill``
- ``transform``  dbt build/docs/lint; the data-quality lines of a build
- ``serve``      the HTML report, Parquet/CSV export, usage questions, the marts summary
"""

__version__ = "0.1.0"
