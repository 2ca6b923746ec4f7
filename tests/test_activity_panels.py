"""Report panels for pull requests, code review / cloud agent users and repositories.

The contract-shaped fixture warehouse (``report_fixtures``) plus small hand-written pull-request,
agent-user and repository marts: each chart shows exactly the mart values (a week without merges
and a day GitHub gave no cloud-agent count are gaps, never zeros), the repositories table ranks by
agent pull requests over the last 28 days, and a missing or empty mart gives a note.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from copilot_warehouse.serve.report import build_report
from harness.report_fixtures import make_marts_warehouse, parse_report

ORG = "organization-octo-demo"
ACME = "organization-acme-labs"

PR_WEEKLY = """
create table marts.fct_copilot_pull_requests_weekly as
select * from (values
    ('organization', 'octo-demo', date '2026-11-09', 3::bigint, 18::bigint, 15::bigint, 10::bigint, 2::bigint,
     1::bigint, 7::bigint, 5::bigint, 216.0::double, 45.0::double, 216.0::double),
    ('organization', 'octo-demo', date '2026-11-16', 1::bigint, 1::bigint, 0::bigint, 0::bigint, 0::bigint,
     0::bigint, 0::bigint, 0::bigint, null::double, null::double, null::double)
) as t(scope_type, scope_name, week_start, days_with_data, pull_requests_created, pull_requests_reviewed,
       pull_requests_merged, pull_requests_created_by_copilot, pull_requests_merged_created_by_copilot,
       pull_requests_reviewed_by_copilot, pull_requests_merged_reviewed_by_copilot,
       median_minutes_to_merge_approx, median_minutes_to_merge_copilot_authored_approx,
       median_minutes_to_merge_copilot_reviewed_approx)
"""
AGENT_USERS = """
create table marts.fct_copilot_agent_users_daily as
select * from (values
    ('organization', 'octo-demo', date '2026-11-20', 2::bigint, 5::bigint, 1::bigint),
    ('organization', 'octo-demo', date '2026-11-21', 0::bigint, 3::bigint, 0::bigint),
    ('organization', 'octo-demo', date '2026-11-22', 1::bigint, 4::bigint, null::bigint)
) as t(scope_type, scope_name, day, daily_active_copilot_code_review_users,
       daily_passive_copilot_code_review_users, daily_active_copilot_cloud_agent_users)
"""
REPOS = """
create table marts.fct_copilot_repository_activity_daily as
select * from (values
    ('organization', 'octo-demo', date '2026-10-01', '1', 'octo-demo/old', 50::bigint, 50::bigint, 0::bigint,
     0::bigint, 0::bigint, 0::bigint),
    ('organization', 'octo-demo', date '2026-11-20', '2', 'octo-demo/api', 2::bigint, 1::bigint, 4::bigint,
     6::bigint, 4::bigint, 1::bigint),
    ('organization', 'octo-demo', date '2026-11-22', '2', 'octo-demo/api', 1::bigint, 0::bigint, 1::bigint,
     2::bigint, 4::bigint, 3::bigint),
    ('organization', 'octo-demo', date '2026-11-22', '3', 'octo-demo/web', 5::bigint, 5::bigint, 0::bigint,
     5::bigint, 0::bigint, 0::bigint)
) as t(scope_type, scope_name, day, repo_key, repository_name, pull_requests_created_by_copilot,
       pull_requests_merged_created_by_copilot, pull_requests_reviewed_by_copilot, pull_requests_created,
       copilot_suggestions, copilot_applied_suggestions)
"""


def _build(tmp_path: Path, tables: tuple[str, ...] = (PR_WEEKLY, AGENT_USERS, REPOS)):
    wh = make_marts_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    try:
        for sql in tables:
            con.execute(sql)
    finally:
        con.close()
    return parse_report(build_report(wh, tmp_path / "out").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("activity"))


def _traces(spec: dict) -> dict[str, tuple[list, list]]:
    return {t["name"]: (t["x"], t["y"]) for t in spec["data"]}


def test_pull_request_chart_shows_the_weekly_mart_values(parsed):
    traces = _traces(parsed.chart_specs[f"chart-{ORG}-pull-requests-weekly"])
    weeks = ["2026-11-09", "2026-11-16"]
    assert traces == {
        "Created": (weeks, [18, 1]),
        "Reviewed": (weeks, [15, 0]),
        "Merged": (weeks, [10, 0]),
        "Copilot-authored": (weeks, [2, 0]),
        "Copilot-authored merged": (weeks, [1, 0]),
        "Copilot-reviewed": (weeks, [7, 0]),
    }


def test_time_to_merge_is_labelled_approximate_and_a_week_without_merges_is_a_gap(parsed):
    chart_id = f"chart-{ORG}-time-to-merge-weekly"
    traces = _traces(parsed.chart_specs[chart_id])
    assert traces["All merged (approx.)"] == (["2026-11-09", "2026-11-16"], [216.0, None])
    assert traces["Copilot-authored (approx.)"][1] == [45.0, None]
    assert traces["Copilot-reviewed (approx.)"][1] == [216.0, None]
    panel = parsed.ids[f"{chart_id}"]
    assert panel["class"] == "chart"


def test_agent_users_keep_a_null_cloud_agent_count_as_a_gap(parsed):
    traces = _traces(parsed.chart_specs[f"chart-{ORG}-agent-users"])
    days = ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert traces == {
        "Code review, active": (days, [2, 0, 1]),
        "Code review, passive": (days, [5, 3, 4]),
        "Cloud agent": (days, [1, 0, None]),
    }


def test_repositories_rank_by_agent_pull_requests_over_the_last_28_days(parsed):
    rows = parsed.tables[f"table-{ORG}-repositories"]
    # octo-demo/old (2026-10-01) is outside the 28 days ending 2026-11-22; api: 2 of 8 applied
    assert rows == [
        ["octo-demo/web", "5", "5", "0", "5", "0", "—"],
        ["octo-demo/api", "3", "1", "5", "8", "8", "50.0%"],
    ]


def test_a_scope_without_rows_says_so(parsed):
    for panel_id in (
        f"chart-{ACME}-pull-requests-weekly",
        f"chart-{ACME}-agent-users",
        f"table-{ACME}-repositories",
    ):
        assert parsed.ids[panel_id]["class"] == "no-data", panel_id
        assert "No data for Organization acme-labs" in parsed.text(panel_id)


def test_a_report_github_does_not_offer_is_named_as_the_reason(parsed):
    # data health lists 'repos-1-day (HTTP 404)' for acme-labs (report_fixtures)
    note = parsed.text(f"table-{ACME}-repositories")
    assert "marts.fct_copilot_repository_activity_daily" in note
    assert "repos-1-day is not offered for this organization (GitHub answered 404)" in note
    # the other panels read reports GitHub does offer: no such reason
    assert "not offered" not in parsed.text(f"chart-{ACME}-pull-requests-weekly")


def test_empty_note_names_each_unavailable_report_and_only_those():
    from copilot_warehouse.serve.report.data import MartReader, ScopeKey

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_copilot_data_health as select * from (values "
        "('organization', 'a', 'repos-1-day (HTTP 404), users-1-day (HTTP 404)'), "
        "('enterprise', 'e', 'user-teams-1-day'), ('organization', 'b', null)) "
        "as t(scope_type, scope_name, unavailable_reports)"
    )
    reader = MartReader(con)
    a, e, b = ScopeKey("organization", "a"), ScopeKey("enterprise", "e"), ScopeKey("organization", "b")
    assert reader.empty_note("m", a, ("users-1-day", "user-teams-1-day")) == (
        "No data for Organization a in marts.m: users-1-day is not offered for this organization "
        "(GitHub answered 404)."
    )
    assert reader.empty_note("m", e, ("user-teams-1-day",)) == (
        "No data for Enterprise e in marts.m: user-teams-1-day is not offered for this enterprise."
    )
    # 'users-1-day' is not 'user-teams-1-day'; a scope with nothing unavailable gets the plain note
    assert reader.empty_note("m", e, ("users-1-day",)) == "No data for Enterprise e in marts.m."
    assert reader.empty_note("m", b, ("repos-1-day",)) == "No data for Organization b in marts.m."
    assert reader.empty_note("m", a) == "No data for Organization a in marts.m."


def test_every_panel_names_its_unavailable_report_and_reads_data_health_only_when_empty():
    from copilot_warehouse.serve.report.data import MartReader, ScopeKey

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_copilot_data_health as select * from (values "
        "('organization', 'a', 'organization-1-day (HTTP 404), users-1-day (HTTP 404)')) "
        "as t(scope_type, scope_name, unavailable_reports)"
    )
    con.execute(
        "create table marts.fct_copilot_usage_daily (scope_type varchar, scope_name varchar, day date)"
    )
    reader = MartReader(con)
    a = ScopeKey("organization", "a")
    sql = "select * from marts.fct_copilot_usage_daily where scope_type = ? and scope_name = ?"
    # the mart's own reports (MART_REPORTS: the scope's organization-1-day) are looked up by default
    assert reader.query("fct_copilot_usage_daily", sql, a.params, scope=a).note == (
        "No data for Organization a in marts.fct_copilot_usage_daily: organization-1-day is not "
        "offered for this organization (GitHub answered 404)."
    )
    # with rows, data health is never read (the reason is worked out only for an empty panel)
    con.execute("insert into marts.fct_copilot_usage_daily values ('organization', 'b', date '2026-09-08')")
    fresh = MartReader(con)
    b = ScopeKey("organization", "b")
    assert fresh.query("fct_copilot_usage_daily", sql, b.params, scope=b).rows
    assert fresh._unavailable == {}


def test_missing_marts_give_a_note_and_the_rest_still_renders(tmp_path):
    parsed = _build(tmp_path, tables=())
    for panel_id, mart in (
        (f"chart-{ORG}-pull-requests-weekly", "fct_copilot_pull_requests_weekly"),
        (f"chart-{ORG}-time-to-merge-weekly", "fct_copilot_pull_requests_weekly"),
        (f"chart-{ORG}-agent-users", "fct_copilot_agent_users_daily"),
        (f"table-{ORG}-repositories", "fct_copilot_repository_activity_daily"),
    ):
        assert parsed.ids[panel_id]["class"] == "no-data", panel_id
        assert f"marts.{mart} is not in the warehouse" in parsed.text(panel_id)
    assert f"chart-{ORG}-active-users" in parsed.chart_specs
