"""The dbt project against a real DuckDB file filled from the simulator: marts versus figures
computed independently in Python from the same Dataset, incremental versus full refresh, and
the runner's summary.

One warehouse is built per module (three dbt invocations: a first build, an incremental build
after new days and a late re-pull arrive, and a full refresh of a copy), then every test reads it.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from copilot_dev.simulator import Dataset, SimulatorConfig
from copilot_warehouse import warehouse
from copilot_warehouse.config import ENTERPRISE, ORGANIZATION, Scope, day_range
from copilot_warehouse.transform import dbt_runner
from harness.raw_fixtures import load_days, load_latest_28_day, load_legacy, load_snapshots, scopes_of

pytestmark = pytest.mark.integration

CONFIG = SimulatorConfig(
    start_day=date(2026, 10, 5),
    end_day=date(2026, 11, 15),
    users_per_org=25,
    legacy_start=date(2026, 9, 21),
    legacy_end=date(2026, 10, 11),  # overlaps the new API's first week: those days must not be used
)
FIRST_LOAD_END = date(2026, 11, 8)
REPULLED_DAY = date(2026, 10, 22)  # in the 28-day window, outside the second build's repull window
ORG = Scope(ORGANIZATION, "octo-demo")
ENT = Scope(ENTERPRISE, "octo-enterprise")

DATASET = Dataset(CONFIG)
SCOPES = scopes_of(DATASET)
NEW_DAYS = day_range(CONFIG.start_day, CONFIG.end_day)
LEGACY_ONLY_DAYS = day_range(CONFIG.legacy_start, CONFIG.start_day - timedelta(days=1))


def _dropped_user() -> int:
    """The member GitHub 'removed' from the re-pulled day (first user of the org that day)."""
    return DATASET.users(ORG, REPULLED_DAY)[0]["user_id"]


DROPPED = _dropped_user()


def keep_record(scope: Scope, report: str, day: date, record: dict) -> bool:
    """The second load's version of the data: one user-day disappears on the re-pulled day."""
    return not (report == "users-1-day" and day == REPULLED_DAY and record.get("user_id") == DROPPED)


def users(scope: Scope, day: date) -> list[dict]:
    """Per-user records as the warehouse holds them after the second load."""
    return [u for u in DATASET.users(scope, day) if keep_record(scope, "users-1-day", day, u)]


def is_active(u: dict) -> bool:
    counters = [k for k in u if k.endswith("_count") or k.startswith("loc_")]
    return any((u.get(k) or 0) > 0 for k in counters) or any(u.get(k) for k in u if k.startswith("used_"))


# --- the warehouse ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build twice (full, then incremental after new data and a re-pull), then full-refresh a copy."""
    root = tmp_path_factory.mktemp("dbt")
    path = root / "warehouse.duckdb"
    con = warehouse.connect(path)
    first = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
    load_legacy(
        con, DATASET, day_range(CONFIG.legacy_start, CONFIG.legacy_end), load_id="legacy", loaded_at=first
    )
    load_days(con, DATASET, day_range(CONFIG.start_day, FIRST_LOAD_END), load_id="load-1", loaded_at=first)
    load_snapshots(con, DATASET, load_id="load-1", loaded_at=first)
    con.close()
    initial = dbt_runner.build(path, target_path=root / "target")

    second = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
    con = warehouse.connect(path)
    load_days(
        con,
        DATASET,
        day_range(FIRST_LOAD_END + timedelta(days=1), CONFIG.end_day),
        load_id="load-2",
        loaded_at=second,
    )
    load_days(con, DATASET, [REPULLED_DAY], load_id="load-2", loaded_at=second, keep=keep_record)
    load_latest_28_day(con, DATASET, load_id="load-2", loaded_at=second)
    con.close()
    incremental = dbt_runner.build(path, unit_tests=True, target_path=root / "target")

    copy = root / "full_refresh.duckdb"
    shutil.copy(path, copy)
    full = dbt_runner.build(copy, full_refresh=True, target_path=root / "target-full")
    return {"path": path, "copy": copy, "initial": initial, "incremental": incremental, "full": full}


@pytest.fixture(scope="module")
def db(built):
    con = duckdb.connect(str(built["path"]), read_only=True)
    yield con
    con.close()


def rows(con, sql: str, *params) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# --- the builds ------------------------------------------------------------------------------
@pytest.mark.parametrize("build", ["initial", "incremental", "full"])
def test_every_build_passes_its_tests(built, build):
    result = built[build]
    assert result.success, result.summary
    assert result.failures == []
    assert result.counts.get("pass", 0) > 30, result.summary  # the data tests really ran


def test_unit_tests_ran_with_the_incremental_build(built):
    statuses = built["incremental"].statuses
    unit_tests = {k: v for k, v in statuses.items() if k.startswith("unit_test.")}
    assert len(unit_tests) >= 9 and set(unit_tests.values()) == {"pass"}, unit_tests
    assert not any(k.startswith("unit_test.") for k in built["initial"].statuses)


def test_incremental_build_equals_full_refresh(built):
    """Every table dbt keeps (marts and the incremental staging tables) equals a full refresh."""
    con = duckdb.connect(str(built["copy"]), read_only=True)
    con.execute(f"attach '{built['path']}' as incr (read_only)")
    tables = [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'marts') and table_type = 'BASE TABLE' "
            "and table_catalog = 'full_refresh' order by 1, 2"
        ).fetchall()
    ]
    assert {"marts.fct_copilot_usage_daily", "marts.fct_copilot_member_daily"} <= set(tables)
    assert {"staging.stg_github_copilot__usage_users", "staging.stg_github_copilot__user_ide_totals"} <= set(
        tables
    )
    for mart in tables:
        full, incr = f"full_refresh.{mart}", f"incr.{mart}"
        only_full = con.execute(f"select count(*) from (from {full} except all from {incr})").fetchall()[0][0]
        only_incr = con.execute(f"select count(*) from (from {incr} except all from {full})").fetchall()[0][0]
        if mart != "marts.fct_copilot_data_quality":  # empty on consistent data (see below)
            assert con.execute(f"select count(*) from {full}").fetchall()[0][0] > 0, mart
        assert (mart, only_full, only_incr) == (mart, 0, 0)
    con.close()


INCREMENTAL_STAGING = [
    "stg_github_copilot__usage_users",
    "stg_github_copilot__user_teams",
    *(
        f"stg_github_copilot__user_{b}_totals"
        for b in ("ide", "feature", "language_feature", "language_model", "model_feature", "cli")
    ),
]


@pytest.mark.parametrize("model", INCREMENTAL_STAGING)
def test_incremental_staging_reads_only_new_and_repulled_days(built, model):
    """The per-user staging tables filter their input by a literal first day (pruned by zone maps):
    the re-pulled day, loaded after the last build, is older than the trailing re-pull window."""
    assert FIRST_LOAD_END - timedelta(days=3) > REPULLED_DAY
    staging = built["incremental"].target_path / "compiled/copilot_warehouse/models/staging/github_copilot"
    compiled = (staging / f"{model}.sql").read_text()
    assert f"where day >= date '{REPULLED_DAY.isoformat()}'" in compiled, compiled


def test_late_repull_of_an_old_day_reaches_the_incremental_marts(db):
    got = db.execute(
        "select count(*) from marts.fct_copilot_member_daily "
        "where scope_name = ? and day = ? and user_id = ?",
        [ORG.name, REPULLED_DAY, DROPPED],
    ).fetchall()[0][0]
    assert got == 0


# --- fct_copilot_usage_daily -----------------------------------------------------------------
@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: s.label)
def test_daily_usage_matches_the_aggregate_reports(db, scope):
    got = {
        r["day"]: r
        for r in rows(
            db,
            "select * from marts.fct_copilot_usage_daily where scope_type = ? and scope_name = ? "
            "and source_api = 'usage_metrics'",
            scope.type,
            scope.name,
        )
    }
    assert sorted(got) == NEW_DAYS
    for day in NEW_DAYS:
        agg = DATASET.aggregate(scope, day)
        row = got[day]
        assert (row["code_generations"], row["code_acceptances"]) == (
            agg["code_generation_activity_count"],
            agg["code_acceptance_activity_count"],
        ), day
        assert (row["daily_active_users"], row["weekly_active_users"], row["monthly_active_users"]) == (
            agg["daily_active_users"],
            agg["weekly_active_users"],
            agg["monthly_active_users"],
        ), day
        assert row["user_initiated_interactions"] == agg["user_initiated_interaction_count"]
        assert (row["loc_suggested_to_add"], row["loc_added"]) == (
            agg["loc_suggested_to_add_sum"],
            agg["loc_added_sum"],
        )
        gens, accs = agg["code_generation_activity_count"], agg["code_acceptance_activity_count"]
        assert row["acceptance_rate"] == (pytest.approx(accs / gens) if gens else None)
        assert row["active_members"] == sum(is_active(u) for u in users(scope, day))
        suggested, added = completion_lines(agg)
        got_lines = (row["completion_loc_suggested_to_add"], row["completion_loc_added"])
        assert got_lines == (suggested, added), day
        assert row["completion_loc_acceptance_rate"] == (
            pytest.approx(added / suggested) if suggested else None
        )
        lines = agg["loc_suggested_to_add_sum"]
        assert row["loc_added_per_suggested_line"] == (
            pytest.approx(agg["loc_added_sum"] / lines) if lines else None
        )


def completion_lines(record: dict) -> tuple[int, int]:
    """(lines suggested, lines added) of a record's code_completion entries of totals_by_feature."""
    entries = [e for e in record.get("totals_by_feature") or [] if e["feature"] == "code_completion"]
    return sum(e["loc_suggested_to_add_sum"] for e in entries), sum(e["loc_added_sum"] for e in entries)


def test_the_ratio_of_all_lines_can_exceed_1_and_the_completion_rate_cannot(db):
    """Agent edits add lines that were never suggested: loc_added_per_suggested_line is a ratio."""
    (ratio_max, rate_max, rate_min) = db.execute(
        "select max(loc_added_per_suggested_line), max(completion_loc_acceptance_rate), "
        "min(completion_loc_acceptance_rate) from marts.fct_copilot_member_daily"
    ).fetchall()[0]
    assert ratio_max > 1
    assert 0 <= rate_min <= rate_max <= 1


@pytest.mark.parametrize("scope", [s for s in SCOPES if s.type == ORGANIZATION], ids=lambda s: s.label)
def test_legacy_days_fill_only_the_history_before_the_new_api(db, scope):
    got = {
        r["day"]: r
        for r in rows(
            db,
            "select * from marts.fct_copilot_usage_daily "
            "where scope_name = ? and source_api = 'legacy_metrics'",
            scope.name,
        )
    }
    assert sorted(got) == LEGACY_ONLY_DAYS  # overlapping legacy days (Oct 5-11) are not used
    for day in LEGACY_ONLY_DAYS:
        legacy = DATASET.legacy_day(scope, day)
        cells = [
            lang
            for ed in legacy["copilot_ide_code_completions"]["editors"]
            for m in ed["models"]
            for lang in m["languages"]
        ]
        gens = sum(c["total_code_suggestions"] for c in cells)
        accs = sum(c["total_code_acceptances"] for c in cells)
        row = got[day]
        assert (row["code_generations"], row["code_acceptances"]) == (gens, accs)
        assert row["daily_active_users"] == legacy["total_active_users"]
        assert row["weekly_active_users"] is None
        assert row["acceptance_rate"] == (pytest.approx(accs / gens) if gens else None)
        # legacy days report code completions only: their lines are completion lines
        suggested = sum(c["total_code_lines_suggested"] for c in cells)
        added = sum(c["total_code_lines_accepted"] for c in cells)
        assert (row["completion_loc_suggested_to_add"], row["completion_loc_added"]) == (suggested, added)
        assert (row["loc_suggested_to_add"], row["loc_added"]) == (suggested, added)


def test_enterprise_rows_come_from_enterprise_reports_not_summed_orgs(db):
    got = {
        (r["scope_name"], r["day"]): r["daily_active_users"]
        for r in rows(
            db,
            "select scope_name, day, daily_active_users from marts.fct_copilot_usage_daily "
            "where source_api = 'usage_metrics'",
        )
    }
    orgs = DATASET.enterprise_orgs(ENT.name)
    strictly_less = 0
    for day in NEW_DAYS:
        org_sum = sum(got[(o, day)] for o in orgs)
        distinct = len({u["user_id"] for o in orgs for u in DATASET.users(Scope(ORGANIZATION, o), day)})
        assert got[(ENT.name, day)] == distinct <= org_sum
        strictly_less += distinct < org_sum
    assert strictly_less > 0  # members in two orgs really counted once


# --- fct_copilot_acceptance_weekly -----------------------------------------------------------
def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.mark.parametrize("scope", SCOPES, ids=lambda s: s.label)
def test_weekly_acceptance_is_a_ratio_of_sums_with_distinct_active_users(db, scope):
    got = {
        r["week_start"]: r
        for r in rows(
            db,
            "select * from marts.fct_copilot_acceptance_weekly where scope_type = ? and scope_name = ?",
            scope.type,
            scope.name,
        )
    }
    gens, accs, days, members = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(set)
    suggested, added = defaultdict(int), defaultdict(int)
    for day in NEW_DAYS:
        agg = DATASET.aggregate(scope, day)
        lines = completion_lines(agg)
        suggested[_week(day)] += lines[0]
        added[_week(day)] += lines[1]
        gens[_week(day)] += agg["code_generation_activity_count"]
        accs[_week(day)] += agg["code_acceptance_activity_count"]
        days[_week(day)] += 1
        members[_week(day)] |= {u["user_id"] for u in users(scope, day) if is_active(u)}
    if scope.type == ORGANIZATION:
        for day in LEGACY_ONLY_DAYS:
            cells = [
                lang
                for ed in DATASET.legacy_day(scope, day)["copilot_ide_code_completions"]["editors"]
                for m in ed["models"]
                for lang in m["languages"]
            ]
            gens[_week(day)] += sum(c["total_code_suggestions"] for c in cells)
            accs[_week(day)] += sum(c["total_code_acceptances"] for c in cells)
            suggested[_week(day)] += sum(c["total_code_lines_suggested"] for c in cells)
            added[_week(day)] += sum(c["total_code_lines_accepted"] for c in cells)
            days[_week(day)] += 1
    assert sorted(got) == sorted(gens)
    for week, row in got.items():
        assert week.isoweekday() == 1
        assert (row["code_generations"], row["code_acceptances"], row["days_with_data"]) == (
            gens[week],
            accs[week],
            days[week],
        )
        assert row["acceptance_rate"] == pytest.approx(accs[week] / gens[week])
        assert row["active_users"] == (len(members[week]) if members[week] else None)
        previous = got.get(week - timedelta(days=7))
        if previous is None:
            assert row["acceptance_rate_change"] is None
        else:
            assert row["acceptance_rate_change"] == pytest.approx(
                row["acceptance_rate"] - previous["acceptance_rate"]
            )
        assert (row["completion_loc_suggested_to_add"], row["completion_loc_added"]) == (
            suggested[week],
            added[week],
        )
        assert row["completion_loc_acceptance_rate"] == pytest.approx(added[week] / suggested[week])
        if previous is None:
            assert row["completion_loc_acceptance_rate_change"] is None
        else:
            assert row["completion_loc_acceptance_rate_change"] == pytest.approx(
                row["completion_loc_acceptance_rate"] - previous["completion_loc_acceptance_rate"]
            )


# --- member marts ----------------------------------------------------------------------------
@pytest.mark.parametrize("scope", [ORG, ENT], ids=lambda s: s.label)
def test_member_summary_matches_the_per_user_reports_and_seats(db, scope):
    got = {
        r["user_id"]: r
        for r in rows(
            db,
            "select * from marts.fct_copilot_member_summary where scope_type = ? and scope_name = ?",
            scope.type,
            scope.name,
        )
    }
    per_user: dict[int, list[dict]] = defaultdict(list)
    for day in NEW_DAYS:
        for u in users(scope, day):
            per_user[u["user_id"]].append(u)
    seats = {s["assignee"]["id"]: s for s in DATASET.seats(scope)}
    assert set(got) == set(per_user) | set(seats)
    last_data_day = max(NEW_DAYS)
    for user_id, row in got.items():
        records = per_user.get(user_id, [])
        active = [date.fromisoformat(u["day"]) for u in records if is_active(u)]
        assert row["active_days"] == len(set(active))
        assert row["first_active_day"] == (min(active) if active else None)
        assert row["last_active_day"] == (max(active) if active else None)
        assert row["code_generations"] == sum(u["code_generation_activity_count"] for u in records)
        assert row["code_acceptances"] == sum(u["code_acceptance_activity_count"] for u in records)
        lines = [completion_lines(u) for u in records]
        suggested, added = sum(s for s, _ in lines), sum(a for _, a in lines)
        assert (row["completion_loc_suggested_to_add"], row["completion_loc_added"]) == (suggested, added)
        assert row["completion_loc_acceptance_rate"] == (
            pytest.approx(added / suggested) if suggested else None
        )
        assert row["agent_days"] == sum(bool(u["used_agent"]) for u in records)
        assert row["chat_days"] == sum(bool(u["used_chat"]) for u in records)
        assert row["has_seat"] == (user_id in seats)
        if user_id in seats:
            recent = [d for d in active if d > last_data_day - timedelta(days=28)]
            assert row["is_inactive_seat"] == (not recent), user_id
            assert row["seat_plan_type"] == seats[user_id]["plan_type"]
        else:
            assert row["is_inactive_seat"] is False


def test_some_seats_are_inactive_and_some_active(db):
    flags = [r[0] for r in db.execute("select is_inactive_seat from marts.dim_copilot_seats").fetchall()]
    assert any(flags) and not all(flags)


def test_enterprise_seat_objects_are_merged_per_member(db):
    seat_objects = len(DATASET.seats(ENT))
    members = len({s["assignee"]["id"] for s in DATASET.seats(ENT)})
    got = db.execute(
        "select count(*), sum(seat_objects) from marts.dim_copilot_seats where scope_name = ?", [ENT.name]
    ).fetchall()[0]
    assert got == (members, seat_objects)
    assert seat_objects > members  # the enterprise listing really had duplicates


def test_member_daily_rolling_activity(db):
    got = rows(
        db,
        "select * from marts.fct_copilot_member_daily where scope_name = ? order by user_id, day",
        ORG.name,
    )
    active_days: dict[int, set[date]] = defaultdict(set)
    for day in NEW_DAYS:
        for u in users(ORG, day):
            if is_active(u):
                active_days[u["user_id"]].add(day)
    assert len(got) == sum(len(users(ORG, d)) for d in NEW_DAYS)
    for row in got:
        mine = active_days[row["user_id"]]
        assert row["active_days_rolling_7d"] == sum(
            row["day"] - timedelta(days=6) <= d <= row["day"] for d in mine
        )
        assert row["active_days_rolling_28d"] == sum(
            row["day"] - timedelta(days=27) <= d <= row["day"] for d in mine
        )


# --- the runner ------------------------------------------------------------------------------
def test_runner_summary_names_the_failing_node_and_its_message(built, tmp_path):
    scratch = tmp_path / "scratch.duckdb"
    shutil.copy(built["copy"], scratch)
    result = dbt_runner.build(
        scratch,
        select="fct_copilot_usage_daily",
        vars={"repull_days": "not a number"},
        target_path=tmp_path / "target",
    )
    assert not result.success
    assert "fct_copilot_usage_daily" in result.summary
    assert result.failures and result.failures[0].message


# --- teams -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scope", [ORG, ENT], ids=lambda s: s.label)
def test_team_usage_counts_members_in_the_team_they_were_in_that_day(db, scope):
    got_daily = {
        (r["day"], r["team_id"]): r
        for r in rows(db, "select * from marts.fct_copilot_team_usage_daily where scope_name = ?", scope.name)
    }
    got_weekly = {
        (r["week_start"], r["team_id"]): r
        for r in rows(
            db, "select * from marts.fct_copilot_team_usage_weekly where scope_name = ?", scope.name
        )
    }
    daily: dict[tuple, dict] = defaultdict(lambda: {"members": set(), "active": set(), "gens": 0})
    weekly: dict[tuple, dict] = defaultdict(lambda: {"members": set(), "active": set(), "gens": 0})
    for day in NEW_DAYS:
        by_user = {u["user_id"]: u for u in users(scope, day)}
        for row in DATASET.user_teams(scope, day):
            u = by_user.get(row["user_id"])
            for bucket in (daily[(day, row["team_id"])], weekly[(_week(day), row["team_id"])]):
                bucket["members"].add(row["user_id"])
                if u is not None and is_active(u):
                    bucket["active"].add(row["user_id"])
                bucket["gens"] += u["code_generation_activity_count"] if u else 0
    assert set(got_daily) == set(daily) and set(got_weekly) == set(weekly)
    for got, expected in ((got_daily, daily), (got_weekly, weekly)):
        for key, exp in expected.items():
            row = got[key]
            assert (row["team_members"], row["active_members"], row["code_generations"]) == (
                len(exp["members"]),
                len(exp["active"]),
                exp["gens"],
            ), key


def test_team_membership_is_kept_per_day(db):
    got = db.execute(
        "select count(*) from marts.fct_copilot_team_membership_daily where scope_name = ?", [ORG.name]
    ).fetchall()[0][0]
    assert got == sum(len(DATASET.user_teams(ORG, d)) for d in NEW_DAYS)


# --- dimensions ------------------------------------------------------------------------------
def test_usage_by_language_sums_the_breakdown_and_counts_distinct_members(db):
    got = {
        (r["day"], r["dimension_value"]): r
        for r in rows(
            db,
            "select * from marts.fct_copilot_usage_by_dimension_daily "
            "where scope_name = ? and dimension = 'language' and source_api = 'usage_metrics'",
            ORG.name,
        )
    }
    expected: dict[tuple, dict] = defaultdict(lambda: {"gens": 0, "accs": 0, "users": set()})
    for day in NEW_DAYS:
        for entry in DATASET.aggregate(ORG, day)["totals_by_language_feature"]:
            expected[(day, entry["language"])]["gens"] += entry["code_generation_activity_count"]
            expected[(day, entry["language"])]["accs"] += entry["code_acceptance_activity_count"]
        for u in users(ORG, day):
            for entry in u["totals_by_language_feature"]:
                if (
                    entry["code_generation_activity_count"]
                    + entry["code_acceptance_activity_count"]
                    + entry["loc_added_sum"]
                ):
                    expected[(day, entry["language"])]["users"].add(u["user_id"])
    assert set(got) == set(expected)
    for key, exp in expected.items():
        if key[0] == REPULLED_DAY:
            continue  # the aggregate still counts the member the re-pull dropped from users-1-day
        row = got[key]
        assert (row["code_generations"], row["code_acceptances"], row["active_users"]) == (
            exp["gens"],
            exp["accs"],
            len(exp["users"]),
        ), key


def test_weekly_overall_dimension_repeats_the_weekly_totals(db):
    mismatches = db.execute(
        """
        select count(*)
        from marts.fct_copilot_acceptance_weekly as w
        full join (
            select * from marts.fct_copilot_acceptance_weekly_by_dimension where dimension = 'overall'
        ) as d using (scope_type, scope_name, week_start)
        where w.code_generations is distinct from d.code_generations
           or w.acceptance_rate is distinct from d.acceptance_rate
           or w.acceptance_rate_change is distinct from d.acceptance_rate_change
        """
    ).fetchall()[0][0]
    assert mismatches == 0
    sql = "select distinct dimension from marts.fct_copilot_acceptance_weekly_by_dimension"
    dims = {r[0] for r in db.execute(sql).fetchall()}
    assert dims == {"overall", "language", "ide", "feature"}


# --- months, cohorts, seats ------------------------------------------------------------------
def test_monthly_active_users_are_distinct_over_the_month(db):
    got = {
        r["month_start"]: r["active_users"]
        for r in rows(db, "select * from marts.fct_copilot_usage_monthly where scope_name = ?", ENT.name)
    }
    expected: dict[date, set] = defaultdict(set)
    for day in NEW_DAYS:
        expected[day.replace(day=1)] |= {u["user_id"] for u in users(ENT, day) if is_active(u)}
    assert got == {month: len(members) for month, members in expected.items()}


def test_adoption_cohorts_partition_the_active_members(db):
    cohorts = rows(db, "select * from marts.fct_copilot_adoption_cohorts where scope_name = ?", ORG.name)
    first_week: dict[int, date] = {}
    for day in NEW_DAYS:
        for u in users(ORG, day):
            if is_active(u):
                first_week.setdefault(u["user_id"], _week(day))
    sizes = {r["cohort_week"]: r["cohort_size"] for r in cohorts if r["weeks_since_first_active"] == 0}
    assert sum(sizes.values()) == len(first_week)
    assert sizes == {w: sum(1 for f in first_week.values() if f == w) for w in set(first_week.values())}
    assert all(r["retention_rate"] == 1.0 for r in cohorts if r["weeks_since_first_active"] == 0)


def test_seat_utilisation_on_the_snapshot_day(db):
    day = CONFIG.end_day
    row = rows(
        db,
        "select * from marts.fct_copilot_seat_utilisation_daily where scope_name = ? and day = ?",
        ORG.name,
        day,
    )[0]
    holders = {s["assignee"]["id"] for s in DATASET.seats(ORG)}
    active = {u["user_id"] for u in users(ORG, day) if is_active(u)}
    assert (row["seats"], row["active_seat_holders"], row["is_reconstructed"]) == (
        len(holders),
        len(holders & active),
        False,
    )


# --- data quality marts ----------------------------------------------------------------------
def test_report_completeness_flags_the_day_that_disagrees_with_the_28_day_report(db):
    got = {
        (r["scope_name"], r["day"]): r["status"]
        for r in rows(db, "select * from marts.fct_copilot_report_completeness")
    }
    start, end = DATASET.window_28_day()
    assert {d for _, d in got} == set(day_range(start, end))
    # the re-pull dropped one member's line in every scope they belong to: the 28-day report has it
    repulled = {s.name for s in SCOPES if DROPPED in {u["user_id"] for u in DATASET.users(s, REPULLED_DAY)}}
    assert ORG.name in repulled
    assert {key for key, status in got.items() if status != "ok"} == {
        (name, REPULLED_DAY) for name in repulled
    }
    assert {got[(name, REPULLED_DAY)] for name in repulled} == {"disagrees"}


def test_consistent_data_raises_no_source_anomaly(db):
    """The simulator's reports agree with each other (active users ordered, acceptances within
    generations, the per-user reports within the scope reports, seats all users with a matching
    total): the data-quality mart has no false positives at this scale."""
    assert db.execute("select count(*) from marts.fct_copilot_data_quality").fetchall() == [(0,)]
    assert db.execute("select sum(source_anomalies) from marts.fct_copilot_data_health").fetchall() == [(0,)]


def test_data_health_and_partition_status(db):
    health = {r["scope_name"]: r for r in rows(db, "select * from marts.fct_copilot_data_health")}
    assert set(health) == {s.name for s in SCOPES}
    for row in health.values():
        assert (row["latest_report_day"], row["days_missing"], row["days_failed"]) == (CONFIG.end_day, 0, 0)
        assert row["unavailable_reports"] is None
    # the latest seats listing beside GitHub's total_seats (a member counted once)
    for scope in SCOPES:
        listing = DATASET.seats(scope)
        holders = {s["assignee"]["id"] for s in listing}
        got = health[scope.name]
        assert (got["seat_snapshot_day"], got["seat_rows"], got["user_seats"], got["total_seats"]) == (
            CONFIG.end_day,
            len(listing),
            len(holders),
            len(holders),
        ), scope
    attempts = db.execute(
        "select attempts from marts.fct_copilot_partition_status "
        "where scope_name = ? and report = 'users-1-day' and day = ?",
        [ORG.name, REPULLED_DAY],
    ).fetchall()
    assert attempts == [(2,)]  # loaded, then re-pulled


# --- freshness and style ---------------------------------------------------------------------
def test_source_freshness_warns_about_raw_tables_not_loaded_for_four_days(built, tmp_path):
    result = dbt_runner.source_freshness(built["copy"], target_path=tmp_path / "target")
    assert result.success, result.summary  # stale sources warn, they do not fail
    warned = {i.label for i in result.warnings}
    assert "source github_copilot.copilot_usage_users" in warned, result.summary


def test_sqlfluff_passes_on_the_dbt_project(capsys):
    """What ``make lint`` runs: ``python -m copilot_warehouse lint-sql``."""
    exit_code = dbt_runner.cli("lint-sql", [])
    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "All Finished" in output


# --- acceptance by lines and legacy engaged users by dimension ---------------------------------
def test_completion_lines_by_dimension_come_from_the_code_completion_entries(db):
    got = {
        (r["day"], r["dimension"], r["dimension_value"]): r
        for r in rows(
            db,
            "select * from marts.fct_copilot_usage_by_dimension_daily "
            "where scope_name = ? and source_api = 'usage_metrics'",
            ORG.name,
        )
    }
    checked = 0
    for day in NEW_DAYS:
        agg = DATASET.aggregate(ORG, day)
        for entry in agg["totals_by_feature"]:
            row = got[(day, "feature", entry["feature"])]
            completion = entry["feature"] == "code_completion"
            assert (row["completion_loc_suggested_to_add"], row["completion_loc_added"]) == (
                entry["loc_suggested_to_add_sum"] if completion else 0,
                entry["loc_added_sum"] if completion else 0,
            )
        per_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for entry in agg["totals_by_language_feature"]:
            if entry["feature"] == "code_completion":
                per_language[entry["language"]][0] += entry["loc_suggested_to_add_sum"]
                per_language[entry["language"]][1] += entry["loc_added_sum"]
        for language, (suggested, added) in per_language.items():
            row = got[(day, "language", language)]
            assert (row["completion_loc_suggested_to_add"], row["completion_loc_added"]) == (suggested, added)
            checked += 1
        for entry in agg["totals_by_ide"]:  # totals_by_ide has no feature split
            assert got[(day, "ide", entry["ide"])]["completion_loc_acceptance_rate"] is None
    assert checked > 0


def test_legacy_engaged_users_per_language_and_editor_come_from_their_lists(db):
    got = {
        (r["day"], r["dimension"], r["dimension_value"]): r["engaged_users"]
        for r in rows(
            db,
            "select day, dimension, dimension_value, engaged_users "
            "from marts.fct_copilot_usage_by_dimension_daily where scope_name = ? and source_api = ?",
            ORG.name,
            "legacy_metrics",
        )
    }
    expected = {}
    for day in LEGACY_ONLY_DAYS:
        completions = DATASET.legacy_day(ORG, day)["copilot_ide_code_completions"]
        for entry in completions.get("languages", []):
            expected[(day, "language", entry["name"])] = entry["total_engaged_users"]
        for entry in completions.get("editors", []):
            expected[(day, "ide", entry["name"])] = entry["total_engaged_users"]
    assert expected and got == expected
    engaged_new_api = db.execute(
        "select count(engaged_users) from marts.fct_copilot_usage_by_dimension_daily "
        "where source_api = 'usage_metrics'"
    ).fetchall()
    assert engaged_new_api == [(0,)]


def test_a_warehouse_built_before_the_lines_rename_upgrades_in_place(built, tmp_path):
    """Incremental marts holding the previous release's columns (loc_acceptance_rate, no completion
    lines, no engaged_users) are rebuilt by the next plain build and then equal a full refresh."""
    old = tmp_path / "old.duckdb"
    shutil.copy(built["copy"], old)
    marts = ("fct_copilot_usage_daily", "fct_copilot_member_daily", "fct_copilot_usage_by_dimension_daily")
    con = duckdb.connect(str(old))
    for mart in marts:
        con.execute(f"alter table marts.{mart} rename loc_added_per_suggested_line to loc_acceptance_rate")
        for column in (
            "completion_loc_suggested_to_add",
            "completion_loc_added",
            "completion_loc_acceptance_rate",
        ):
            con.execute(f"alter table marts.{mart} drop column {column}")
    con.execute("alter table marts.fct_copilot_usage_by_dimension_daily drop column engaged_users")
    con.close()

    result = dbt_runner.build(old, target_path=tmp_path / "target")
    assert result.success, result.summary

    con = duckdb.connect(str(built["copy"]), read_only=True)
    con.execute(f"attach '{old}' as upgraded (read_only)")
    try:
        for mart in marts:
            columns = (
                "select column_name from information_schema.columns "
                "where table_catalog = ? and table_schema = 'marts' and table_name = ? "
                "order by ordinal_position"
            )
            fresh = con.execute(columns, ["full_refresh", mart]).fetchall()
            assert con.execute(columns, ["upgraded", mart]).fetchall() == fresh, mart
            upgraded, full = f"upgraded.marts.{mart}", f"full_refresh.marts.{mart}"
            diff = con.execute(
                f"select (select count(*) from (from {upgraded} except all from {full})), "
                f"(select count(*) from (from {full} except all from {upgraded}))"
            ).fetchall()
            assert diff == [(0, 0)], mart
    finally:
        con.close()
