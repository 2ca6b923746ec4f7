"""DAG ``copilot_usage_ingest``: fetch GitHub Copilot usage reports per org/enterprise and load them raw.

Orchestration only; the work lives in the ``copilot_warehouse`` package (imported inside tasks so
this file parses fast and touches no network, database or Variable at import time).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, task, task_group
from copilot_airflow import notify
from copilot_warehouse import config

DOC_MD = """
### Copilot usage ingest

Per organization/enterprise (Variables `copilot_orgs`, optional `copilot_enterprises`), one
mapped task group:

1. **check_availability** – one cheap API probe; a scope without access or without Copilot
   metrics is *skipped* with the reason (the other scopes carry on). A single report GitHub does
   not offer for a scope (e.g. `repos-1-day` answering 404) is recorded once as unavailable,
   not counted as failed days, and asked for again once per UTC day.
2. **fetch** – downloads each daily report of the run's days into the landing zone (network only,
   no pool, parallel across scopes), plus the gap partitions from earlier runs (204 / failed /
   missing), the `*-28-day/latest` reports (completeness check) and the day's seats/billing
   snapshot.
3. **load** – loads the landed partitions into `raw.*` (pool `duckdb_writer`, one slot: DuckDB
   allows one writer) and emits the Asset `duckdb://copilot/raw`, which triggers
   `copilot_usage_transform`.

**Days.** A scheduled run at logical date *L* fetches report day *L − 2* (GitHub's publishing lag)
and the `repull_days` (default 3, Variable `copilot_repull_days`) days before it, because GitHub may
still change them. A manual run with Params `start_day`/`end_day` fetches that inclusive range.
Days GitHub cannot serve (before the scope's history start, older than a year, in the future) are
clipped with a log line.

**Run summary** (task `run_summary`): per scope and report, days requested, 204s, failures,
retries and records; each skipped scope with its reason; plus a freshness warning when no new
report day arrived for more than 4 days. The run succeeds when at least one scope loaded and
fails with one line per scope when none did (a wrong token, a policy turned off).
See `docs/operations.md`.
"""

# Catch-up is off by default: history is loaded with `make backfill` or `airflow backfill create`.
# COPILOT_INGEST_START / COPILOT_INGEST_CATCHUP let a deployment opt into scheduler catch-up.
START_DATE = datetime.fromisoformat(os.environ.get("COPILOT_INGEST_START", "2025-12-14")).replace(tzinfo=UTC)
# Seconds between task retries; `make run` and the tests shorten it (`dags test` waits it out).
RETRY_DELAY = timedelta(seconds=int(os.environ.get("COPILOT_TASK_RETRY_DELAY_SECONDS", "120")))
CATCHUP = os.environ.get("COPILOT_INGEST_CATCHUP", "false").strip().lower() in {"1", "true", "yes"}


@dag(
    dag_id="copilot_usage_ingest",
    # 06:00 UTC daily; CronTriggerTimetable because the logical date *is* the trigger time, from
    # which schedule.report_day() subtracts the publishing lag (no data-interval arithmetic).
    schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=CATCHUP,
    max_active_runs=1,  # re-pull windows of consecutive runs overlap: run them one at a time
    dagrun_timeout=timedelta(hours=6),  # a stuck run must not block the next day (max_active_runs=1)
    tags=["copilot", "ingest", "github"],
    doc_md=DOC_MD,
    default_args={
        "owner": "copilot-warehouse",
        "retries": 2,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": True,  # API hiccups and secondary rate limits clear with time
        "on_failure_callback": notify.on_failure,
    },
    params={
        "start_day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Manual run: first report day (YYYY-MM-DD, inclusive). Empty = scheduled window.",
        ),
        "end_day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Manual run: last report day to fetch (YYYY-MM-DD, inclusive). Empty = start_day.",
        ),
        "repull_days": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            maximum=31,
            description="Scheduled window: trailing days re-pulled before the report day (default 3).",
        ),
        "repair_gaps": Param(
            True,
            type="boolean",
            description="Also re-fetch partitions that earlier runs found missing, 204 or failed.",
        ),
    },
)
def copilot_usage_ingest():
    @task(pool=config.DUCKDB_POOL)  # reads raw.ingest_log for gaps; DuckDB readers wait for writers
    def plan(**context) -> list[dict]:
        """Resolve scopes from Variables, the run's days from its context/Params, and gap days."""
        from datetime import datetime as dt

        from airflow.sdk import Variable
        from airflow.sdk.exceptions import AirflowFailException
        from copilot_warehouse import warehouse
        from copilot_warehouse.config import ConfigError
        from copilot_warehouse.extract import availability
        from copilot_warehouse.pipeline import gaps, schedule

        params = context["params"]
        dag_run = context["dag_run"]
        try:
            scopes = schedule.parse_scopes(
                Variable.get(config.VAR_ORGS, default=None),
                Variable.get(config.VAR_ENTERPRISES, default=None),
            )
            repull = params.get("repull_days")
            if repull is None:
                repull = Variable.get(schedule.VAR_REPULL_DAYS, default=None)
            window = schedule.resolve_window(
                logical_date=context.get("logical_date"),
                run_after=getattr(dag_run, "run_after", None),
                start_day=params.get("start_day"),
                end_day=params.get("end_day"),
                repull_days=repull,
            )
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from None  # a config error does not get better on retry
        # The warehouse set-up: the raw schema exists from the first run on, loaded or not, so the
        # transform always finds its sources.
        warehouse.initialize(config.warehouse_path())
        # Clipping to GitHub's window uses the real date: retention is relative to today, not the run.
        today = max(window.today, dt.now(UTC).date())
        found = (
            gaps.find_gaps(config.warehouse_path(), scopes, today) if params.get("repair_gaps", True) else []
        )
        states = availability.latest_states(config.warehouse_path(), scopes)
        probe_day = dt.now(UTC).date()  # a report not offered is asked for again once per UTC day
        work = []
        for scope in scopes:
            skip = availability.reports_to_skip(states, scope, probe_day)
            for line in skip.values():
                print(line)
            kept = schedule.clip_days(scope, window.days, today)
            scope_gaps = [g for g in found if g.scope == scope and g.day not in set(kept.days)]
            repair = sorted((g.report, g.day.isoformat()) for g in scope_gaps)
            print(
                f"{scope.label}: {window.kind} run, {len(kept.days)} day(s)"
                + (f" {kept.days[0]}..{kept.days[-1]}" if kept.days else "")
                + (f", plus {len(repair)} gap partition(s) to repair" if repair else "")
            )
            for g in scope_gaps:
                print(f"  gap to repair: {g.describe()}")
            work.append(
                {
                    "scope": scope.as_dict(),
                    "days": [d.isoformat() for d in kept.days],
                    "gap_partitions": [list(p) for p in repair],
                    "snapshot_day": today.isoformat(),
                    "skip_reports": skip,
                    "run_kind": window.kind,
                }
            )
        return work

    @task_group
    def ingest_scope(work: dict):
        @task
        def check_availability(work: dict) -> dict:
            """Probe the scope once; skip it (with the reason) when its metrics are unavailable."""
            from airflow.sdk import get_current_context
            from airflow.sdk.exceptions import AirflowSkipException
            from copilot_airflow.hooks import GitHubCopilotHook

            scope = config.Scope.from_dict(work["scope"])
            availability = GitHubCopilotHook().get_conn().check_availability(scope)
            get_current_context()["ti"].xcom_push(
                key="availability",
                value={
                    "scope": scope.label,
                    "available": availability.available,
                    "reason": availability.reason,
                },
            )
            if not availability.available:
                raise AirflowSkipException(f"{scope.label} skipped: {availability.reason}")
            return work

        @task
        def fetch(work: dict) -> list[dict]:
            """Download the run's days, gap days, 28-day reports and seats snapshot into the landing zone."""
            from datetime import date

            from copilot_airflow.hooks import GitHubCopilotHook
            from copilot_warehouse.pipeline import ingest

            scope = config.Scope.from_dict(work["scope"])
            root = config.landing_path()
            client = GitHubCopilotHook().get_conn()
            # Raises when every call of the window failed (then the task retries); partial
            # failures stay in the receipts and become gaps that later runs repair.
            # The *-28-day/latest reports feed the completeness check (marts.fct_copilot_report_completeness).
            receipts = ingest.fetch_scope_days(
                client,
                scope,
                work["days"],
                root,
                latest_28_day=True,
                skip_reports=work.get("skip_reports"),
            )
            for report, day in work["gap_partitions"]:
                receipts.append(ingest.fetch_report(client, scope, report, date.fromisoformat(day), root))
            receipts += ingest.fetch_scope_snapshot(client, scope, work["snapshot_day"], root)
            from copilot_warehouse.extract.client import describe_requests

            accounting = describe_requests(ingest.request_accounting(client) or {})
            print(f"{scope.label}: GitHub: {accounting}, at most {ingest.max_connections(client)} at a time")
            return receipts

        @task(
            pool=config.DUCKDB_POOL,  # DuckDB allows one writing process
            outlets=[Asset(config.RAW_ASSET_URI)],  # triggers copilot_usage_transform
        )
        def load(receipts: list[dict]) -> dict:
            """Load the landed partitions into raw (one transaction per partition)."""
            from copilot_warehouse.pipeline import ingest, schedule

            summary = ingest.load_receipts(receipts, config.warehouse_path(), config.landing_path())
            for line in schedule.summarize_receipts(receipts, summary):
                print(line)
            # Receipts and counts only (the per-partition list stays in raw.ingest_log).
            kept = ("load_id", "scopes", "totals", "unavailable")
            return {"receipts": receipts, "summary": {k: summary.get(k) for k in kept}}

        return load(fetch(check_availability(work)))

    # all_done: summarise even when a scope failed or was skipped; the pool: it reads DuckDB.
    @task(trigger_rule="all_done", pool=config.DUCKDB_POOL, retries=0)
    def run_summary(work: list[dict], loads: list[dict], **context) -> dict:
        """Log per scope and report what the run fetched, and warn when data stopped arriving.

        Fails (one line naming each scope and why) when no scope loaded anything: a wrong token or
        a policy turned off must not pass as a green run. One loaded scope is enough to succeed;
        the skipped ones are named with their reason.
        """
        from datetime import datetime as dt

        from airflow.sdk.exceptions import AirflowFailException
        from copilot_warehouse.pipeline import gaps, schedule

        checks = schedule.as_list(
            context["ti"].xcom_pull(
                task_ids="ingest_scope.check_availability", key="availability", default=[]
            )
        )
        work = schedule.as_list(work)  # empty when plan itself failed
        loads = schedule.as_list(loads)  # a mapped group with one element gives that element
        loaded_scopes = set()
        for result in loads:
            for line in schedule.summarize_receipts(result["receipts"], result.get("summary")):
                print(line)
            for line in (result.get("summary") or {}).get("unavailable") or []:
                print(line)
            loaded_scopes |= {f"{r['scope_type']}:{r['scope_name']}" for r in result["receipts"]}
        not_loaded = []
        for check in checks:
            if not check["available"]:
                not_loaded.append(f"{check['scope']}: skipped - {check['reason']}")
        scopes = [config.Scope.from_dict(w["scope"]) for w in work]
        for scope in scopes:
            if scope.label not in loaded_scopes and not any(c["scope"] == scope.label for c in checks):
                not_loaded.append(f"{scope.label}: no result - the scope failed, see its task logs")
        for line in not_loaded:
            print(line)
        stale = []
        try:
            for fresh in gaps.check_freshness(
                config.warehouse_path(),
                scopes,
                dt.now(UTC).date(),
                simulator_last_day=config.simulator_last_day(),
            ):
                print(fresh.message)
                if fresh.stale:
                    stale.append(fresh.message)
        except Exception as exc:  # noqa: BLE001 - e.g. the warehouse is locked by a writer right now
            print(f"freshness check not possible: {exc}")
        # Only a scheduled run says data stopped arriving: a manual run of an old range (a
        # backfill, `make run` on the simulator's fixed history) is not evidence of it.
        scheduled = any(w.get("run_kind") == "scheduled" for w in work)
        if stale and loaded_scopes and scheduled:
            notify.send_alert("Copilot usage data is not arriving: " + " | ".join(stale))
        if not scopes:  # plan failed: its error (e.g. no scope configured) is the reason
            raise AirflowFailException("no scope was planned: the plan task failed, see its log")
        if not loaded_scopes:
            raise AirflowFailException(schedule.nothing_loaded_line(not_loaded))
        print(f"{len(loaded_scopes)} of {len(scopes)} scope(s) loaded")
        return {
            "scopes": len(scopes),
            "loaded": sorted(loaded_scopes),
            "not_loaded": not_loaded,
            "stale": stale,
        }

    work = plan()
    loads = ingest_scope.expand(work=work)
    run_summary(work, loads)


copilot_usage_ingest()
