"""Values GitHub supplies are never a reason to stop building marts.

Each field case (08, 16, 22, 23: the odd but real GitHub answers in ``field-cases/README.md``) is
put into the raw tables of a real DuckDB file exactly as the ingest and the loader would, then
the real ``dbt build`` runs. Checked here: the build succeeds with warnings at most and builds
every mart; the marts hold the right values; each odd value is a row of
``marts.fct_copilot_data_quality`` and a line of ``quality.anomaly_lines``; the data tests'
severities follow ownership (a check on a GitHub value warns, what our models guarantee errs);
reports GitHub does not offer are never failed or missing days; and the HTML report's "all
organizations" figures never add organizations up.

The cases' records are written below as the case folders hold them (``CASES``), so the tests
carry their own inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from copilot_warehouse import warehouse
from copilot_warehouse.config import ORGANIZATION, Scope
from copilot_warehouse.serve.report import build_report
from copilot_warehouse.transform import dbt_runner, quality
from harness.raw_fixtures import load_case
from harness.report_fixtures import parse_report

pytestmark = pytest.mark.integration

SNAPSHOT_DAY = date(2026, 11, 30)  # field-cases/README.md: take the seat snapshot on 2026-11-30
LOADED_AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
EAST, WEST, ENTERPRISE = "fc-org-east", "fc-org-west", "fc-enterprise"
D = date.fromisoformat
MARTS_DIR = Path(__file__).resolve().parents[1] / "dbt" / "models" / "marts"  # _marts__*.yml name marts


# --- the cases' records ----------------------------------------------------------------------------
def _counters(prompts: int, gens: int, accs: int, suggested: int, added: int, *, prompts_key=True) -> dict:
    out = {"user_initiated_interaction_count": prompts} if prompts_key else {}
    return out | {
        "code_generation_activity_count": gens,
        "code_acceptance_activity_count": accs,
        "loc_suggested_to_add_sum": suggested,
        "loc_suggested_to_delete_sum": 0,
        "loc_added_sum": added,
        "loc_deleted_sum": 0,
    }


def _breakdowns(counts: tuple[int, ...], ide_extra: dict | None = None) -> dict:
    """One vscode / code_completion / python entry carrying all of the record's activity."""
    return {
        "totals_by_ide": [{"ide": "vscode", **_counters(*counts), **(ide_extra or {})}],
        "totals_by_feature": [{"feature": "code_completion", **_counters(*counts)}],
        "totals_by_language_feature": [
            {"language": "python", "feature": "code_completion", **_counters(*counts, prompts_key=False)}
        ],
        "totals_by_language_model": [],
        "totals_by_model_feature": [],
    }


def _scope_record(day: str, ids: dict, actives: tuple[int, int, int, int], counts: tuple[int, ...]) -> dict:
    dau, wau, mau, chat = actives
    return {
        "day": day,
        **ids,
        "daily_active_users": dau,
        "weekly_active_users": wau,
        "monthly_active_users": mau,
        "monthly_active_chat_users": chat,
        "monthly_active_agent_users": 0,
        **_counters(*counts),
        **_breakdowns(counts),
    }


CASE08_USERS = {  # user_id, login, (prompts, generations, acceptances, lines suggested, lines added)
    "amber": (7001, "user-amber", (4, 30, 9, 90, 27)),
    "birch": (7002, "user-birch", (2, 20, 4, 60, 12)),
    "cedar": (7003, "user-cedar", (1, 10, 5, 30, 15)),
}


def _user_record(day: str, who: str, ids: dict) -> dict:
    user_id, login, counts = CASE08_USERS[who]
    version = {"last_known_ide_version": {"ide_version": "1.107.1", "sampled_at": f"{day}T15:00:00.000Z"}}
    return {
        "day": day,
        "user_id": user_id,
        "user_login": login,
        **ids,
        **_counters(*counts),
        "used_chat": True,
        "used_agent": False,
        "used_cli": False,
        **_breakdowns(counts, ide_extra=version),
    }


def _case23_day(day: str, dau: int, wau: int, mau: int, gens: int, accs: int, added: int) -> dict:
    return {
        "day": day,
        "organization_id": "88001",
        "daily_active_users": dau,
        "weekly_active_users": wau,
        "monthly_active_users": mau,
        "monthly_active_chat_users": 2,
        "monthly_active_agent_users": 1,
        **_counters(9, gens, accs, gens * 3, added),
        **{k: [] for k in _breakdowns((0, 0, 0, 0, 0))},
    }


def _seat(created: str, assignee: dict | None, *, pending=None, activity=None, editor=None) -> dict:
    return {
        "created_at": created,
        "updated_at": created,
        "pending_cancellation_date": pending,
        "last_activity_at": activity,
        "last_activity_editor": editor,
        "last_authenticated_at": activity,
        "plan_type": "business",
        "assignee": assignee,
        "assigning_team": None,
    }


def _user(login: str, user_id: int) -> dict:
    return {"login": login, "id": user_id, "node_id": f"U_fc{user_id}", "type": "User", "site_admin": False}


TEAM_ASSIGNEE = {  # the older seat schema: a Team as assignee (id, slug, name; no login, no type)
    "id": 990044,
    "node_id": "T_fc990044",
    "url": "https://api.github.com/teams/990044",
    "html_url": "https://github.com/orgs/fc-org-east/teams/platform-crew",
    "name": "platform-crew",
    "slug": "platform-crew",
    "description": None,
    "privacy": "closed",
    "permission": "pull",
    "members_url": "https://api.github.com/teams/990044/members{/member}",
    "repositories_url": "https://api.github.com/teams/990044/repos",
    "parent": None,
}
E08 = {"enterprise_id": "9101"}
O_EAST, O_WEST = {"organization_id": "88001"}, {"organization_id": "88002"}
DAY08 = "2026-09-08"

# case -> {path inside the case folder: records (.ndjson) or object (.json)}
CASES: dict[str, dict[str, Any]] = {
    "case08": {
        "scopes.json": {"orgs": [EAST, WEST], "enterprises": [ENTERPRISE]},
        f"{ENTERPRISE}/enterprise-1-day/{DAY08}.ndjson": [
            _scope_record(DAY08, E08, (3, 3, 3, 3), (7, 60, 18, 180, 54))
        ],
        f"{ENTERPRISE}/users-1-day/{DAY08}.ndjson": [_user_record(DAY08, w, E08) for w in CASE08_USERS],
        f"{EAST}/organization-1-day/{DAY08}.ndjson": [
            _scope_record(DAY08, O_EAST, (2, 2, 2, 2), (6, 50, 13, 150, 39))
        ],
        f"{EAST}/users-1-day/{DAY08}.ndjson": [
            _user_record(DAY08, w, O_EAST | E08) for w in ("amber", "birch")
        ],
        f"{WEST}/organization-1-day/{DAY08}.ndjson": [
            _scope_record(DAY08, O_WEST, (2, 2, 2, 2), (5, 40, 14, 120, 42))
        ],
        f"{WEST}/users-1-day/{DAY08}.ndjson": [
            _user_record(DAY08, w, O_WEST | E08) for w in ("amber", "cedar")
        ],
    },
    "case16": {
        "scopes.json": {"orgs": [EAST], "enterprises": []},
        f"{EAST}/seats.json": {
            "total_seats": 3,
            "seats": [
                _seat(
                    "2026-08-10T09:00:00Z",
                    _user("user-amber", 7001),
                    activity="2026-11-27T10:00:00Z",
                    editor="vscode/1.107.1/copilot-chat/0.35.3",
                ),
                _seat("2026-07-21T08:00:00Z", None, pending="2026-12-10"),
                _seat("2024-05-13T12:00:00Z", TEAM_ASSIGNEE),
                _seat(
                    "2026-08-10T09:00:00Z",
                    _user("user-birch", 7002),
                    pending="2026-12-10",
                    activity="2026-11-19T16:20:00Z",
                    editor="JetBrains-IC/2026.2/copilot-intellij/1.9.0",
                ),
            ],
        },
    },
    "case22": {
        "scopes.json": {"orgs": [EAST], "enterprises": []},
        f"{EAST}/users-1-day/{DAY08}.ndjson": [
            {
                "day": DAY08,
                "user_id": 7001,
                "user_login": "user-amber",
                "organization_id": "88001",
                "user_initiated_interaction_count": 1,
                "code_generation_activity_count": 2,
                "code_acceptance_activity_count": 1,
            }
        ],
    },
    "case23": {
        "scopes.json": {"orgs": [EAST], "enterprises": []},
        f"{EAST}/organization-1-day/2026-09-07.ndjson": [_case23_day("2026-09-07", 3, 4, 5, 120, 30, 60)],
        f"{EAST}/organization-1-day/2026-09-08.ndjson": [_case23_day("2026-09-08", 3, 4, 3, 80, 28, 56)],
        f"{EAST}/organization-1-day/2026-09-09.ndjson": [_case23_day("2026-09-09", 2, 4, 5, 100, 22, 44)],
    },
}
# the folder names in field-cases/
CASE_DIRS = {
    "case08": "case08",
    "case16": "case16",
    "case22": "case22-users-without-aggregate",
    "case23": "case23-actives-inconsistent",
}


def write_case(root: Path, files: dict[str, Any]) -> Path:
    """Write a case folder (``scopes.json``, ``<scope>/<report>/<day>.ndjson``, ``seats.json``)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".ndjson"):
            path.write_text("".join(json.dumps(r) + "\n" for r in content))
        else:
            path.write_text(json.dumps(content, indent=1))
    return root


# --- building a case -------------------------------------------------------------------------------
@dataclass
class Built:
    """A warehouse built by dbt from one case's raw rows."""

    path: Path
    result: dbt_runner.DbtResult
    target: Path

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()

    @property
    def warned(self) -> set[str]:
        """Names of the data tests that warned (``test.<project>.<name>.<hash>``)."""
        return {i.unique_id.split(".")[2] for i in self.result.warnings}


Setup = Callable[[Any], None]


def build_case(
    root: Path, case: str, *, scopes: list[Scope] | None = None, before: Setup | None = None, **build_kw
) -> Built:
    """Write ``case``'s folder under ``root``, load it into raw, run ``before(con)``, then dbt build."""
    folder = write_case(root / case, CASES[case])
    path = root / "warehouse.duckdb"
    con = warehouse.connect(path)
    try:
        load_case(
            con, folder, snapshot_day=SNAPSHOT_DAY, load_id=f"{case}-1", loaded_at=LOADED_AT, scopes=scopes
        )
        if before:
            before(con)
    finally:
        con.close()
    target = root / "target"
    return Built(path, dbt_runner.build(path, target_path=target, **build_kw), target)


def mart_names() -> set[str]:
    return {
        m["name"]
        for path in sorted(MARTS_DIR.glob("_marts__*.yml"))
        for m in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", [])
    }


def assert_built_with_warnings_at_most(built: Built) -> None:
    result = built.result
    assert result.success, result.summary
    assert result.failures == [], result.summary
    tables = {r["table_name"] for r in built.rows("select table_name from information_schema.tables")}
    assert mart_names() <= tables, mart_names() - tables
    assert "fct_copilot_data_quality" in mart_names()
    skipped = {k: v for k, v in result.statuses.items() if v == "skipped"}
    assert skipped == {}, skipped


# --- case23: GitHub's active-user counts out of order ------------------------------------------------
def _repos_unavailable(con) -> None:
    """The org does not offer repos-1-day: an older probe said it did, the latest answered 404.

    Two repos-1-day attempts failed with 404 before the probe: 2026-09-05 (a day no other report
    was attempted for) and 2026-09-08.
    """
    con.executemany(
        "insert into raw.report_availability values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (ORGANIZATION, EAST, "repos-1-day", True, 200, None, D("2026-09-01"),
             datetime(2026, 9, 1, 6, 0, tzinfo=UTC), "p1"),
            (ORGANIZATION, EAST, "repos-1-day", False, 404, "not offered for this organization (HTTP 404)",
             D("2026-09-10"), datetime(2026, 9, 10, 6, 0, tzinfo=UTC), "p2"),
        ],
    )  # fmt: skip
    con.execute(
        """insert into raw.ingest_log (load_id, scope_type, scope_name, report, day, http_status, status,
                                       message, finished_at)
           select 'repos', 'organization', ?, 'repos-1-day', d, 404, 'failed', 'HTTP 404', ?
           from (values (date '2026-09-05'), (date '2026-09-08')) as t(d)""",
        [EAST, datetime(2026, 12, 1, 7, 0, tzinfo=UTC)],  # after the case's own attempts
    )


@pytest.fixture(scope="module")
def case23(tmp_path_factory) -> Built:
    return build_case(tmp_path_factory.mktemp("case23"), "case23", before=_repos_unavailable)


def test_case23_build_completes_with_a_warning_and_every_mart(case23):
    assert_built_with_warnings_at_most(case23)
    assert case23.warned == {"usage_daily_github_active_users_in_order"}, case23.result.summary


def test_case23_weekly_marts_are_built_with_the_right_values(case23):
    (week,) = case23.rows(
        "select * from marts.fct_copilot_acceptance_weekly where scope_name = ? and week_start = ?",
        EAST,
        D("2026-09-07"),
    )
    assert (week["code_generations"], week["code_acceptances"], week["days_with_data"]) == (300, 80, 3)
    assert week["acceptance_rate"] == pytest.approx(0.26667, abs=1e-5)
    overall = case23.rows(
        "select code_generations, code_acceptances from marts.fct_copilot_acceptance_weekly_by_dimension "
        "where scope_name = ? and dimension = 'overall'",
        EAST,
    )
    assert overall == [{"code_generations": 300, "code_acceptances": 80}]
    (month,) = case23.rows("select * from marts.fct_copilot_usage_monthly where scope_name = ?", EAST)
    assert (month["days_with_data"], month["code_generations"], month["peak_daily_active_users"]) == (
        3,
        300,
        3,
    )


def test_case23_anomaly_row_names_scope_day_fields_and_values(case23):
    (row,) = case23.rows("select * from marts.fct_copilot_data_quality")
    assert {k: row[k] for k in ("scope_type", "scope_name", "day", "check_name", "severity")} == {
        "scope_type": ORGANIZATION,
        "scope_name": EAST,
        "day": D("2026-09-08"),
        "check_name": "active_users_order",
        "severity": "warn",
    }
    assert row["fields"] == "weekly_active_users > monthly_active_users"
    assert row["observed_values"] == "daily_active_users=3, weekly_active_users=4, monthly_active_users=3"
    assert row["finding"] == "weekly_active_users=4 > monthly_active_users=3"
    assert row["source_report"] == "organization-1-day" and row["subject"] is None
    assert "out of order" in row["description"]


def test_case23_warning_keeps_the_failing_row(case23):
    kept = case23.rows("select day from dbt_test__audit.usage_daily_github_active_users_in_order")
    assert kept == [{"day": D("2026-09-08")}]


def test_case23_run_summary_lines(case23):
    assert quality.anomaly_lines(case23.path) == [
        "organization:fc-org-east 2026-09-08 active_users_order: "
        "weekly_active_users=4 > monthly_active_users=3"
    ]
    (health,) = case23.rows("select source_anomalies from marts.fct_copilot_data_health")
    assert health == {"source_anomalies": 1}


def test_unavailable_report_days_are_neither_failed_nor_missing(case23):
    (health,) = case23.rows("select * from marts.fct_copilot_data_health where scope_name = ?", EAST)
    assert health["unavailable_reports"] == "repos-1-day (HTTP 404)"
    # without the rule 09-05 would be a failed first day and 09-06 a missing one
    assert (health["first_attempted_day"], health["last_attempted_day"]) == (D("2026-09-07"), D("2026-09-09"))
    assert (health["days_failed"], health["days_missing"]) == (0, 0)
    statuses = case23.rows(
        "select day, status, http_status from marts.fct_copilot_partition_status "
        "where report = 'repos-1-day' order by day"
    )
    assert statuses == [
        {"day": D("2026-09-05"), "status": "unavailable", "http_status": 404},
        {"day": D("2026-09-07"), "status": "unavailable", "http_status": 204},
        {"day": D("2026-09-08"), "status": "unavailable", "http_status": 404},
        {"day": D("2026-09-09"), "status": "unavailable", "http_status": 204},
    ]
    failed = case23.rows("select * from marts.fct_copilot_partition_status where status = 'failed'")
    assert failed == []


def test_data_quality_unit_tests_pass_on_the_built_warehouse(case23, tmp_path):
    result = dbt_runner.run_unit_tests(case23.path, target_path=tmp_path / "target")
    assert result.success, result.summary
    checks = {
        k.split(".")[-1]: v
        for k, v in result.statuses.items()
        if k.startswith("unit_test.") and ".fct_copilot_data_quality." in k
    }
    assert checks == {
        "data_quality_active_users_order": "pass",
        "data_quality_acceptances_exceed_generations": "pass",
        "data_quality_completion_lines_exceed_suggested": "pass",
        "data_quality_users_without_aggregate": "pass",
        "data_quality_active_members_exceed_daily_active_users": "pass",
        "data_quality_seat_checks_read_the_latest_listing": "pass",
    }


# --- the severity rule, read from dbt's manifest -----------------------------------------------------
def _test_nodes(built: Built) -> dict[str, dict]:
    manifest = json.loads((built.target / "manifest.json").read_text())
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}


def test_checks_on_github_values_warn_and_keep_their_rows_and_our_guarantees_error(case23):
    tests = _test_nodes(case23)
    # named <mart>_github_<check> (stg_github_copilot__* models are not GitHub-value checks)
    github = {name: n for name, n in tests.items() if "_github_" in name.replace("github_copilot__", "")}
    ours = {name: n for name, n in tests.items() if name not in github}
    # every test GitHub's values alone can fail is warn and stores its failing rows
    assert len(github) >= 19
    for name, node in github.items():
        assert (node["config"]["severity"].lower(), node["config"]["store_failures"]) == ("warn", True), name
    warned_exprs = {
        (n["attached_node"].split(".")[-1], n["test_metadata"]["kwargs"].get("expression"))
        for n in github.values()
    }
    for mart in (
        "fct_copilot_usage_daily",
        "fct_copilot_acceptance_weekly",
        "fct_copilot_usage_by_dimension_daily",
        "fct_copilot_acceptance_weekly_by_dimension",
        "fct_copilot_usage_monthly",
        "fct_copilot_team_usage_daily",
        "fct_copilot_team_usage_weekly",
    ):
        assert (mart, "code_acceptances <= code_generations") in warned_exprs, mart
    # no test on a GitHub value is left at error severity
    for name, node in ours.items():
        kwargs = node.get("test_metadata", {}).get("kwargs", {})
        if node["config"]["severity"].lower() == "warn":
            assert node["test_metadata"]["name"] == "recent_schema_key", name
            continue
        assert "code_acceptances <= code_generations" not in str(kwargs.get("expression")), name
        assert "weekly_active_users" not in str(kwargs.get("expression")), name
        if node["test_metadata"]["name"] == "value_between":
            assert kwargs["column_name"] not in {"acceptance_rate", "acceptance_rate_rolling_28d"}, name
        if node["test_metadata"]["name"] == "relationships":
            assert kwargs["to"] != "ref('fct_copilot_usage_daily')", name
    # keys, grain and our own enums stay errors
    kinds = {n["test_metadata"]["name"] for n in ours.values() if n["config"]["severity"].lower() == "error"}
    assert {"unique_key_columns", "not_null_columns", "accepted_values", "unique", "not_null"} <= kinds


def test_data_quality_mart_has_an_enforced_contract_documented_columns_and_a_unique_key(case23):
    manifest = json.loads((case23.target / "manifest.json").read_text())
    (node,) = [n for n in manifest["nodes"].values() if n["name"] == "fct_copilot_data_quality"]
    assert node["config"]["contract"]["enforced"] is True
    columns = node["columns"]
    assert list(columns) == [
        "anomaly_id",
        "scope_type",
        "scope_name",
        "day",
        "check_name",
        "source_report",
        "subject",
        "fields",
        "observed_values",
        "finding",
        "severity",
        "description",
    ]
    assert all(c["description"] and c["data_type"] for c in columns.values())
    keyed = [
        n
        for n in _test_nodes(case23).values()
        if n.get("attached_node") == node["unique_id"]
        and n["test_metadata"]["name"] in {"unique", "unique_key_columns"}
    ]
    assert keyed and all(n["config"]["severity"].lower() == "error" for n in keyed)


# --- case22: a users report for a day whose organization report is 204 -------------------------------
def _aggregate_arrives(con) -> None:
    """GitHub publishes the late organization report for 2026-09-08 (one active user)."""
    record = {
        "day": DAY08,
        "organization_id": "88001",
        "daily_active_users": 1,
        "weekly_active_users": 1,
        "monthly_active_users": 1,
        **_counters(1, 2, 1, 6, 1),
    }
    con.execute(
        "insert into raw.copilot_usage_aggregate "
        "values (?, ?, 'organization-1-day', ?, ?, ?, 1, 'late', ?, 'usage_metrics')",
        [
            ORGANIZATION,
            EAST,
            D(DAY08),
            json.dumps(record),
            "part-0001.ndjson",
            datetime(2026, 12, 2, tzinfo=UTC),
        ],
    )
    con.execute(
        "insert into raw.ingest_log (load_id, scope_type, scope_name, report, day, http_status, status, "
        "records, finished_at) values ('late', ?, ?, 'organization-1-day', ?, 200, 'loaded', 1, ?)",
        [ORGANIZATION, EAST, D(DAY08), datetime(2026, 12, 2, tzinfo=UTC)],
    )


@pytest.fixture(scope="module")
def case22(tmp_path_factory) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("case22")
    first = build_case(root, "case22")
    copy = root / "late" / "warehouse.duckdb"
    copy.parent.mkdir()
    copy.write_bytes(first.path.read_bytes())
    con = warehouse.connect(copy)
    try:
        _aggregate_arrives(con)
    finally:
        con.close()
    late = Built(copy, dbt_runner.build(copy, target_path=root / "late" / "target"), root / "late" / "target")
    return {"first": first, "late": late}


def test_case22_transform_succeeds_and_warns_only_on_github_checks(case22):
    built = case22["first"]
    assert_built_with_warnings_at_most(built)
    # the member's cohort has no daily usage row for its scope yet: a warning, never an error
    assert built.warned == {"adoption_cohorts_github_scope_has_daily_usage"}, built.result.summary


def test_case22_member_is_in_the_member_marts_and_the_org_has_no_daily_row(case22):
    built = case22["first"]
    assert built.rows("select day, user_id from marts.fct_copilot_member_daily") == [
        {"day": D(DAY08), "user_id": 7001}
    ]
    assert built.rows(
        "select user_login, active_days, code_generations, code_acceptances "
        "from marts.fct_copilot_member_summary"
    ) == [{"user_login": "user-amber", "active_days": 1, "code_generations": 2, "code_acceptances": 1}]
    for mart in (
        "fct_copilot_usage_daily",
        "fct_copilot_acceptance_weekly",
        "fct_copilot_usage_by_dimension_daily",
        "fct_copilot_seat_utilisation_daily",
    ):
        assert built.rows(f"select * from marts.{mart}") == [], mart


def test_case22_day_is_a_users_without_aggregate_anomaly(case22):
    built = case22["first"]
    (row,) = built.rows("select * from marts.fct_copilot_data_quality")
    assert (row["scope_name"], row["day"], row["check_name"], row["severity"]) == (
        EAST,
        D(DAY08),
        "users_without_aggregate",
        "warn",
    )
    assert row["finding"] == "user_records=1, organization-1-day=no_report (HTTP 204)"
    assert quality.anomaly_lines(built.path) == [
        "organization:fc-org-east 2026-09-08 users_without_aggregate: "
        "user_records=1, organization-1-day=no_report (HTTP 204)"
    ]
    (health,) = built.rows("select * from marts.fct_copilot_data_health")
    assert (health["latest_report_day"], health["days_no_report"], health["source_anomalies"]) == (None, 1, 1)


def test_case22_late_aggregate_fills_the_day_and_clears_the_anomaly(case22):
    late = case22["late"]
    assert late.result.success and late.warned == set(), late.result.summary
    assert late.rows(
        "select day, daily_active_users, active_members, code_generations from marts.fct_copilot_usage_daily"
    ) == [{"day": D(DAY08), "daily_active_users": 1, "active_members": 1, "code_generations": 2}]
    assert late.rows("select * from marts.fct_copilot_data_quality") == []
    assert quality.anomaly_lines(late.path) == []


# --- case16: seat rows without a user assignee; timestamps with offsets ------------------------------
OFFSETS = Scope(ORGANIZATION, "fc-org-offsets")


def _offset_listing(con) -> None:
    """A second org whose seat timestamps carry non-UTC offsets."""
    from copilot_warehouse.load import loader

    seat = _seat(
        "2026-08-10T23:30:00-03:00",
        _user("user-dune", 7009),
        activity="2026-11-20T22:30:00-05:00",
        editor="vim",
    )
    loader.load_snapshot(con, OFFSETS, SNAPSHOT_DAY, None, [seat], "offsets", total_seats=1)


@pytest.fixture(scope="module")
def case16(tmp_path_factory) -> Built:
    # dbt in its own process whose host time zone is Honolulu (UTC-10): results must not move
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "Pacific/Honolulu")
        return build_case(tmp_path_factory.mktemp("case16"), "case16", before=_offset_listing, isolated=True)


def test_case16_all_rows_stay_in_raw_and_the_listing_total_apart(case16):
    assert_built_with_warnings_at_most(case16)
    assert case16.rows("select count(*) as n from raw.copilot_seats where scope_name = ?", EAST) == [{"n": 4}]
    (health,) = case16.rows("select * from marts.fct_copilot_data_health where scope_name = ?", EAST)
    assert {k: health[k] for k in ("seat_snapshot_day", "seat_rows", "user_seats", "non_user_seat_rows")} == {
        "seat_snapshot_day": SNAPSHOT_DAY,
        "seat_rows": 4,
        "user_seats": 2,
        "non_user_seat_rows": 2,
    }
    assert health["total_seats"] == 3


def test_case16_null_and_team_rows_are_seat_rows_but_no_members(case16):
    seats = case16.rows(
        "select assignee_type, user_id, user_login, assignee_team_slug, is_inactive_seat, is_never_used, "
        "pending_cancellation_date from marts.dim_copilot_seats where scope_name = ? "
        "order by assignee_type, user_id",
        EAST,
    )
    assert [(s["assignee_type"], s["user_login"], s["assignee_team_slug"]) for s in seats] == [
        ("none", None, None),
        ("team", None, "platform-crew"),
        ("user", "user-amber", None),
        ("user", "user-birch", None),
    ]
    assert [s for s in seats if s["is_inactive_seat"] or s["is_never_used"]] == []
    assert [s["user_id"] for s in seats if s["assignee_type"] != "user"] == [None, None]
    members = case16.rows(
        "select user_login, has_seat, is_inactive_seat, is_never_used_seat, seat_pending_cancellation_date "
        "from marts.fct_copilot_member_summary where scope_name = ? order by user_id",
        EAST,
    )
    assert members == [
        {
            "user_login": "user-amber",
            "has_seat": True,
            "is_inactive_seat": False,
            "is_never_used_seat": False,
            "seat_pending_cancellation_date": None,
        },
        {
            "user_login": "user-birch",
            "has_seat": True,
            "is_inactive_seat": False,
            "is_never_used_seat": False,
            "seat_pending_cancellation_date": D("2026-12-10"),  # a date: the seat is held until then
        },
    ]


def test_case16_listing_oddities_are_anomaly_rows(case16):
    got = {
        r["check_name"]: r["finding"]
        for r in case16.rows("select * from marts.fct_copilot_data_quality where scope_name = ?", EAST)
    }
    assert got == {
        "seat_assignee_not_a_user": "null_assignee_rows=1, team_assignee_rows=1 (platform-crew)",
        "seat_total_mismatch": "total_seats=3 != user_seats=2",
    }
    assert (
        case16.rows("select * from marts.fct_copilot_data_quality where scope_name = ?", OFFSETS.name) == []
    )


def test_seat_timestamps_with_offsets_are_the_same_utc_instant_whatever_the_host_zone(case16):
    (seat,) = case16.rows(
        "select created_at, last_activity_at, days_since_last_activity from marts.dim_copilot_seats "
        "where scope_name = ?",
        OFFSETS.name,
    )
    assert seat["created_at"] == datetime(2026, 8, 11, 2, 30, tzinfo=UTC)
    assert seat["last_activity_at"] == datetime(2026, 11, 21, 3, 30, tzinfo=UTC)
    assert seat["days_since_last_activity"] == 9  # 2026-11-21 (UTC) to the 2026-11-30 snapshot


# --- case08: one person in two orgs, and the report's "all organizations" figures --------------------
@pytest.fixture(scope="module")
def case08(tmp_path_factory) -> dict[str, Built]:
    with_enterprise = build_case(tmp_path_factory.mktemp("case08"), "case08")
    orgs_only = build_case(
        tmp_path_factory.mktemp("case08-orgs"),
        "case08",
        scopes=[Scope(ORGANIZATION, EAST), Scope(ORGANIZATION, WEST)],
    )
    return {"enterprise": with_enterprise, "orgs": orgs_only}


def test_case08_each_scope_counts_its_own_members(case08):
    built = case08["enterprise"]
    assert_built_with_warnings_at_most(built)
    assert built.warned == set(), built.result.summary
    got = {
        r["scope_name"]: tuple(r.values())[1:]
        for r in built.rows(
            "select scope_name, daily_active_users, active_members, code_generations, code_acceptances "
            "from marts.fct_copilot_usage_daily"
        )
    }
    assert got == {EAST: (2, 2, 50, 13), WEST: (2, 2, 40, 14), ENTERPRISE: (3, 3, 60, 18)}
    assert built.rows("select * from marts.fct_copilot_data_quality") == []


def _overview_text(built: Built, out: Path) -> str:
    parsed = parse_report(build_report(built.path, out).read_text(encoding="utf-8"))
    return parsed.text("overview")


def test_case08_report_all_organizations_figures_are_the_enterprises(case08, tmp_path):
    text = _overview_text(case08["enterprise"], tmp_path)
    detail = "enterprise fc-enterprise (every organization, a person once), last 28 days"
    assert f"Lines of code added 54 {detail}" in text
    assert f"Acceptance rate 30.0% {detail}" in text  # 18 / 60
    assert "Lines of code added 81" not in text


def test_case08_report_without_an_enterprise_counts_each_person_once(case08, tmp_path):
    built = case08["orgs"]
    assert built.rows("select distinct scope_type from marts.fct_copilot_usage_daily") == [
        {"scope_type": ORGANIZATION}
    ]
    text = _overview_text(built, tmp_path)
    detail = "all organizations, each person once (per-member reports), 2026-08-12 to 2026-09-08"
    assert f"Lines of code added 54 {detail}" in text  # 27 + 12 + 15: user-amber once, not 39 + 42
    assert f"Acceptance rate 30.0% {detail}" in text
    assert "Lines of code added 81" not in text


# --- quality.anomaly_lines -------------------------------------------------------------------------
def _quality_mart(path: Path, rows: list[tuple]) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute(
            """create schema marts;
               create table marts.fct_copilot_data_quality (
                   scope_type varchar, scope_name varchar, day date, check_name varchar, subject varchar,
                   finding varchar)"""
        )
        if rows:
            con.executemany("insert into marts.fct_copilot_data_quality values (?, ?, ?, ?, ?, ?)", rows)
    finally:
        con.close()
    return path


@pytest.mark.parametrize(
    ("anomalies", "limit", "expected"),
    [
        pytest.param(0, 20, [], id="no anomaly: no line"),
        pytest.param(
            2,
            20,
            [
                "organization:org-0 2026-09-01 acceptances_exceed_generations (user dev (7)): "
                "code_acceptances=1 > code_generations=0",
                "organization:org-1 2026-09-02 acceptances_exceed_generations (user dev (7)): "
                "code_acceptances=1 > code_generations=0",
            ],
            id="oldest day first, with the subject",
        ),
        pytest.param(
            25,
            20,
            [f"organization:org-{i} 2026-09-{i + 1:02d}" for i in range(20)] + ["... and 5 more"],
            id="over the limit: 20 lines and a count of the rest",
        ),
        pytest.param(3, 0, ["... and 3 more"], id="limit 0: only the count"),
    ],
)
def test_anomaly_lines(tmp_path, anomalies, limit, expected):
    rows = [
        ("organization", f"org-{i}", date(2026, 9, 1 + i), "acceptances_exceed_generations", "user dev (7)",
         "code_acceptances=1 > code_generations=0")
        for i in range(anomalies)
    ]  # fmt: skip
    lines = quality.anomaly_lines(_quality_mart(tmp_path / "w.duckdb", rows), limit=limit)
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_anomaly_lines_are_empty_without_the_mart_or_the_file(tmp_path):
    assert quality.anomaly_lines(tmp_path / "missing.duckdb") == []
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert quality.anomaly_lines(empty) == []
    assert not (tmp_path / "missing.duckdb").exists()  # read-only: nothing created


def test_anomaly_lines_read_while_another_reader_holds_the_file(case23):
    con = duckdb.connect(str(case23.path), read_only=True)
    try:
        assert len(quality.anomaly_lines(case23.path)) == 1
    finally:
        con.close()


@pytest.mark.parametrize(
    ("unique_id", "label"),
    [
        pytest.param(
            "test.copilot_warehouse.usage_daily_github_active_users_in_order.cc3ce46b90",
            "test usage_daily_github_active_users_in_order",
            id="a test by its name, not its hash",
        ),
        pytest.param(
            "model.copilot_warehouse.fct_copilot_usage_daily", "model fct_copilot_usage_daily", id="model"
        ),
        pytest.param(
            "source.copilot_warehouse.github_copilot.copilot_usage_users",
            "source github_copilot.copilot_usage_users",
            id="source",
        ),
    ],
)
def test_a_warning_in_the_run_summary_names_its_test(unique_id, label):
    from copilot_warehouse.transform.dbt_runner import NodeIssue

    assert NodeIssue(unique_id, "warn", "Got 1 result").label == label
