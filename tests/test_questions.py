"""The three usage questions (copilot_warehouse.serve.questions and ``python -m copilot_warehouse usage``)
against marts built by the real dbt project from simulator data.

One warehouse is built per module (one dbt build of the marts the questions read); every answer
is checked against figures computed here independently, with pandas, from the rows of
``fct_copilot_member_daily`` (and ``fct_copilot_team_membership_daily`` for a team).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd
import pytest
from copilot_dev.simulator import Dataset, SimulatorConfig
from copilot_warehouse import __main__ as main_module
from copilot_warehouse import warehouse
from copilot_warehouse.config import day_range
from copilot_warehouse.serve import questions
from copilot_warehouse.serve.questions import QuestionError
from copilot_warehouse.transform import dbt_runner
from harness.raw_fixtures import load_days

pytestmark = pytest.mark.integration

CONFIG = SimulatorConfig(start_day=date(2026, 10, 5), end_day=date(2026, 11, 1), users_per_org=14)
ORG = "organization:octo-demo"
ENT = ("enterprise", "octo-enterprise")
RANGE = (date(2026, 10, 7), date(2026, 10, 25))  # Wednesday .. Sunday: first week partial
PARTIAL = (date(2026, 10, 8), date(2026, 10, 20))  # Thursday .. Tuesday: partial at both ends
EMPTY = (date(2026, 12, 1), date(2026, 12, 9))  # after the data
COUNTERS = ["code_generations", "code_acceptances", "user_initiated_interactions",
            "loc_suggested_to_add", "loc_added", "loc_deleted"]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("questions")
    path = root / "warehouse.duckdb"
    con = warehouse.connect(path)
    load_days(
        con,
        Dataset(CONFIG),
        day_range(CONFIG.start_day, CONFIG.end_day),
        load_id="questions",
        loaded_at=datetime(2026, 11, 3, 6, 0, tzinfo=UTC),
    )
    con.close()
    # only the marts the questions read (and their tests): the build does not depend on the others
    result = dbt_runner.run(
        ["build", "--select", "+fct_copilot_member_daily", "+fct_copilot_team_membership_daily",
         "+fct_copilot_usage_daily", "--indirect-selection", "cautious",
         "--exclude-resource-type", "unit_test", "--quiet"],
        warehouse_path=path,
        target_path=root / "target",
    )  # fmt: skip
    assert result.success, result.summary
    return path


def _days(built, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` on the built warehouse (read-only), ``day`` as dates."""
    con = duckdb.connect(str(built), read_only=True)
    try:
        df = con.execute(sql).df()
    finally:
        con.close()
    df["day"] = df["day"].dt.date
    return df


@pytest.fixture(scope="module")
def member_days(built) -> pd.DataFrame:
    return _days(
        built,
        f"select scope_type, scope_name, day, user_id, user_login, is_active, {', '.join(COUNTERS)} "
        "from marts.fct_copilot_member_daily",
    )


@pytest.fixture(scope="module")
def team_days(built) -> pd.DataFrame:
    return _days(
        built,
        "select scope_type, scope_name, day, team_slug, user_id from marts.fct_copilot_team_membership_daily",
    )


def scope_rows(member_days: pd.DataFrame, scope_type: str, scope_name: str, start: date, end: date):
    m = member_days
    return m[(m.scope_type == scope_type) & (m.scope_name == scope_name) & (m.day >= start) & (m.day <= end)]


def expected_figures(rows: pd.DataFrame) -> dict:
    """Totals computed independently: distinct members, sums, ratio of sums."""
    gens, accs = int(rows.code_generations.sum()), int(rows.code_acceptances.sum())
    return {
        "days_with_data": rows.day.nunique(),
        "members": rows.user_id.nunique(),
        "active_users": rows[rows.is_active].user_id.nunique(),
        **{c: int(rows[c].sum()) for c in COUNTERS},
        "acceptance_rate": accs / gens if gens else None,
    }


def same(actual, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if isinstance(expected, float):
        return math.isclose(actual, expected, rel_tol=1e-12)
    return actual == expected


def assert_row_matches(row: dict | pd.Series, expected: dict) -> None:
    for key, value in expected.items():
        assert same(row[key], value), (key, row[key], value)


def expected_members(rows: pd.DataFrame) -> dict[int, dict]:
    out = {}
    for user_id, g in rows.groupby("user_id"):
        gens, accs = int(g.code_generations.sum()), int(g.code_acceptances.sum())
        active = g[g.is_active]
        out[int(user_id)] = {
            "user_login": g.sort_values("day").user_login.iloc[-1],
            "active_days": active.day.nunique(),
            "days_with_data": g.day.nunique(),
            "last_active_day": active.day.max() if len(active) else None,
            **{c: int(g[c].sum()) for c in COUNTERS},
            "acceptance_rate": accs / gens if gens else None,
        }
    return out


# --- totals ---------------------------------------------------------------------------------
def test_totals_over_a_range(built, member_days):
    start, end = RANGE
    df = questions.totals(ORG, start, end, warehouse=built)
    assert list(df.columns) == questions.TOTALS_COLUMNS
    assert len(df) == 1
    row = df.iloc[0]
    expected = expected_figures(scope_rows(member_days, "organization", "octo-demo", start, end))
    assert expected["active_users"] > 0 and expected["code_generations"] > 0
    assert_row_matches(row, expected)
    assert (row.scope_type, row.scope_name, row.team_slug) == ("organization", "octo-demo", None)
    assert (row.start_day, row.end_day, row.days_in_range) == (start, end, 19)
    # active users are distinct over the range: fewer than the sum of the daily counts
    daily = scope_rows(member_days, "organization", "octo-demo", start, end)
    assert row.active_users < daily[daily.is_active].groupby("day").user_id.nunique().sum()


def test_totals_of_a_single_day_and_strings_for_days(built, member_days):
    day = date(2026, 10, 14)
    row = questions.totals(ORG, "2026-10-14", "2026-10-14", warehouse=built).iloc[0]
    expected = expected_figures(scope_rows(member_days, "organization", "octo-demo", day, day))
    assert_row_matches(row, expected)
    assert (row.days_in_range, row.days_with_data) == (1, 1)


def test_totals_of_an_enterprise_given_as_a_pair(built, member_days):
    start, end = RANGE
    row = questions.totals(ENT, start, end, warehouse=built).iloc[0]
    assert_row_matches(row, expected_figures(scope_rows(member_days, *ENT, start, end)))
    assert row.scope_type == "enterprise"


def test_an_empty_range_gives_zero_counts_and_null_rates(built):
    start, end = EMPTY
    answers = questions.ask(ORG, start, end, warehouse=built)
    row = answers.totals.iloc[0]
    for col in ("days_with_data", "members", "active_users", *COUNTERS):
        assert row[col] == 0, col
    assert pd.isna(row.acceptance_rate)
    assert row.days_in_range == 9
    assert answers.weekly_trend.empty and list(answers.weekly_trend.columns) == questions.TREND_COLUMNS
    assert answers.members.empty and list(answers.members.columns) == questions.MEMBER_COLUMNS


# --- weekly trend ---------------------------------------------------------------------------
@pytest.mark.parametrize("days", [RANGE, PARTIAL], ids=["range", "partial-weeks"])
def test_weekly_trend_counts_only_days_in_the_range(built, member_days, days):
    start, end = days
    df = questions.weekly_trend(ORG, start, end, warehouse=built)
    assert list(df.columns) == questions.TREND_COLUMNS
    rows = scope_rows(member_days, "organization", "octo-demo", start, end)
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    assert list(df.week_start) == weeks  # every ISO week overlapping the range (all hold data)
    for _, week in df.iterrows():
        sunday = week.week_start + timedelta(days=6)
        assert week.week_start.weekday() == 0 and week.week_end == sunday
        in_range = [d for d in day_range(week.week_start, sunday) if start <= d <= end]
        assert week.days_in_range == len(in_range)
        assert week.is_partial_week == (len(in_range) < 7)
        expected = expected_figures(rows[(rows.day >= in_range[0]) & (rows.day <= in_range[-1])])
        assert_row_matches(week, expected)
    if days == PARTIAL:
        assert list(df.days_in_range) == [4, 7, 2]
        assert list(df.is_partial_week) == [True, False, True]


# --- members --------------------------------------------------------------------------------
def test_member_breakdown(built, member_days):
    start, end = RANGE
    df = questions.member_breakdown(ORG, start, end, warehouse=built)
    assert list(df.columns) == questions.MEMBER_COLUMNS
    expected = expected_members(scope_rows(member_days, "organization", "octo-demo", start, end))
    assert sorted(df.user_id) == sorted(expected)
    for _, row in df.iterrows():
        assert_row_matches(row, expected[row.user_id])
    # most acceptances first, then most active days, then login
    keys = [(-r.code_acceptances, -r.active_days, r.user_login) for r in df.itertuples()]
    assert keys == sorted(keys)
    # the member rows add up to the totals
    totals = questions.totals(ORG, start, end, warehouse=built).iloc[0]
    for col in COUNTERS:
        assert df[col].sum() == totals[col], col
    assert (df.active_days > 0).sum() == totals.active_users


# --- a team ---------------------------------------------------------------------------------
def test_a_team_counts_its_members_on_their_team_days(built, member_days, team_days):
    start, end = RANGE
    teams = team_days[(team_days.scope_type == "organization") & (team_days.scope_name == "octo-demo")]
    assert not teams.empty, "the simulator data should hold a team of five or more members"
    slug = teams.team_slug.value_counts().index[0]
    membership = teams[(teams.team_slug == slug) & (teams.day >= start) & (teams.day <= end)]
    membership = membership[["day", "user_id"]].drop_duplicates()
    org_rows = scope_rows(member_days, "organization", "octo-demo", start, end)
    rows = membership.merge(org_rows, on=["day", "user_id"], how="left")
    rows["is_active"] = rows.is_active.astype("boolean").fillna(False).astype(bool)
    rows[COUNTERS] = rows[COUNTERS].fillna(0)

    answers = questions.ask(ORG, start, end, team=slug, warehouse=built)
    total = answers.totals.iloc[0]
    assert total.team_slug == slug
    assert_row_matches(total, expected_figures(rows))
    assert total.members == membership.user_id.nunique()
    members = answers.members.set_index("user_id")
    assert sorted(members.index) == sorted(membership.user_id.unique())
    for user_id, g in rows.groupby("user_id"):
        assert members.loc[user_id, "code_acceptances"] == g.code_acceptances.sum()
        assert members.loc[user_id, "active_days"] == g[g.is_active].day.nunique()
    for _, week in answers.weekly_trend.iterrows():
        in_week = rows[(rows.day >= week.week_start) & (rows.day <= week.week_end)]
        assert_row_matches(week, expected_figures(in_week))


# --- bad input ------------------------------------------------------------------------------
BAD = [
    pytest.param({"scope": "organization:nope"}, ["organization:nope", "organization:octo-demo"], id="scope"),
    pytest.param(
        {"scope": "octo-demo"},
        ["'octo-demo'", "organization:<slug>", "organization:octo-demo"],
        id="scope-format",
    ),
    pytest.param({"scope": "org:octo-demo"}, ["org:octo-demo", "organization:<slug>"], id="scope-type"),
    pytest.param({"team": "no-such-team"}, ["no-such-team", "teams (by slug) are"], id="team"),
    pytest.param({"end_day": "2026-10-01"}, ["2026-10-01", "before start_day 2026-10-07"], id="reversed"),
    pytest.param({"start_day": "2026-13-01"}, ["'2026-13-01'", "YYYY-MM-DD"], id="bad-month"),
    pytest.param({"end_day": "20261025"}, ["'20261025'", "YYYY-MM-DD"], id="no-dashes"),
]


@pytest.mark.parametrize(("change", "named"), BAD)
def test_bad_input_raises_a_clear_error_and_the_command_exits_2(built, capsys, change, named):
    args = {"scope": ORG, "start_day": "2026-10-07", "end_day": "2026-10-25", "team": None, **change}
    for fn in (questions.totals, questions.weekly_trend, questions.member_breakdown):
        with pytest.raises(QuestionError) as err:
            fn(args["scope"], args["start_day"], args["end_day"], team=args["team"], warehouse=built)
        for text in named:
            assert text in str(err.value), (text, str(err.value))
    argv = ["usage", "--scope", args["scope"], "--start-day", args["start_day"], "--end-day", args["end_day"],
            "--warehouse", str(built)] + (["--team", args["team"]] if args["team"] else [])  # fmt: skip
    capsys.readouterr()
    assert main_module.main(argv) == 2
    out, err_text = capsys.readouterr()
    assert out == ""
    assert err_text.startswith("error: ") and err_text.count("\n") == 1
    assert named[0] in err_text


def test_a_team_error_lists_the_scopes_teams(built, team_days):
    with pytest.raises(QuestionError) as err:
        questions.totals(ORG, *RANGE, team="no-such-team", warehouse=built)
    some_slug = team_days[team_days.scope_name == "octo-demo"].team_slug.iloc[0]
    assert some_slug in str(err.value)


def test_a_missing_warehouse_is_named(tmp_path):
    with pytest.raises(QuestionError, match="does not exist"):
        questions.totals(ORG, *RANGE, warehouse=tmp_path / "nothing.duckdb")


def test_a_warehouse_without_marts_is_named(tmp_path):
    path = warehouse.initialize(tmp_path / "raw-only.duckdb")
    with pytest.raises(QuestionError, match="has no marts.fct_copilot_member_daily"):
        questions.totals(ORG, *RANGE, warehouse=path)


def test_a_warehouse_with_marts_but_no_data_says_to_load_first(tmp_path, capsys):
    """Marts built (e.g. by a run that loaded nothing) but no scope with data: not 'unknown scope'."""
    path = warehouse.initialize(tmp_path / "empty.duckdb")
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    for table in (questions.MEMBER_DAILY, questions.TEAM_MEMBERSHIP, questions.USAGE_DAILY):
        con.execute(f"create table {table} (scope_type varchar, scope_name varchar)")
    con.close()
    with pytest.raises(QuestionError) as err:
        questions.totals(ORG, *RANGE, warehouse=path)
    assert "no scope has data in the warehouse yet" in str(err.value)
    assert "make run" in str(err.value) and "make backfill" in str(err.value)
    assert "unknown scope" not in str(err.value)
    argv = ["usage", "--scope", ORG, "--start-day", "2026-10-07", "--end-day", "2026-10-25",
            "--warehouse", str(path)]  # fmt: skip
    assert main_module.main(argv) == 2
    out, err_text = capsys.readouterr()
    assert out == "" and err_text.startswith("error: no scope has data") and err_text.count("\n") == 1


def test_a_missing_option_exits_2(built, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main_module.main(["usage", "--scope", ORG, "--start-day", "2026-10-07", "--warehouse", str(built)])
    assert exit_info.value.code == 2
    assert "--end-day" in capsys.readouterr().err


# --- the command ----------------------------------------------------------------------------
def test_the_command_prints_json_matching_the_api(built, capsys):
    start, end = PARTIAL
    argv = ["usage", "--scope", ORG, "--start-day", str(start), "--end-day", str(end),
            "--format", "json", "--warehouse", str(built)]  # fmt: skip
    assert main_module.main(argv) == 0
    body = json.loads(capsys.readouterr().out)
    answers = questions.ask(ORG, start, end, warehouse=built)
    total = answers.totals.iloc[0]
    assert body["totals"]["start_day"] == str(start) and body["totals"]["team_slug"] is None
    for col in ("active_users", "code_generations", "code_acceptances"):
        assert body["totals"][col] == total[col]
    assert math.isclose(body["totals"]["acceptance_rate"], total.acceptance_rate)
    assert [w["week_start"] for w in body["weekly_trend"]] == [
        str(d) for d in answers.weekly_trend.week_start
    ]
    assert [w["days_in_range"] for w in body["weekly_trend"]] == [4, 7, 2]
    assert [m["user_id"] for m in body["members"]] == list(answers.members.user_id)


def test_the_command_prints_tables_and_csv(built, capsys):
    base = ["usage", "--scope", ORG, "--start-day", "2026-10-07", "--end-day", "2026-10-25",
            "--warehouse", str(built)]  # fmt: skip
    assert main_module.main(base) == 0
    out = capsys.readouterr().out
    for title in (
        "Totals",
        "Weekly trend (ISO weeks)",
        "Members",
        "active_users",
        "week_start",
        "user_login",
    ):
        assert title in out
    assert main_module.main([*base, "--format", "csv", "--answer", "members"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == ",".join(questions.MEMBER_COLUMNS)
    assert len(csv_lines) == 1 + len(questions.member_breakdown(ORG, *RANGE, warehouse=built))
    # an empty range prints its zero counts and says the other answers have no rows
    assert main_module.main([*base[:3], "--start-day", "2026-12-01", "--end-day", "2026-12-02",
                             "--warehouse", str(built)]) == 0  # fmt: skip
    assert "(no data in the range)" in capsys.readouterr().out
