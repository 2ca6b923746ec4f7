"""The simulator serves the odd-but-real answers of real deployments, over real HTTP on 127.0.0.1.

Two groups:

- per-scope answers (``forbidden_scopes`` 403, ``metrics_disabled_scopes`` 422,
  ``unavailable_reports`` 404), changeable while the server runs;
- messy mode (``SimulatorConfig(messy=True)``): restated days, renamed logins, odd seat rows,
  offset timestamps, inconsistent active counts, a missing report, empty 200 answers and late
  aggregates, each listed in ``Dataset.messy_manifest()``.

Every expectation is computed from the clean data (``SimulatorConfig()`` without messy mode) or
from the manifest, and checked against what a client downloads. The default configuration must
keep serving exactly the bytes it served before these knobs existed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from copilot_dev.simulator import Dataset, SimulatorConfig, SimulatorServer
from copilot_dev.simulator.data import COUNTERS
from copilot_dev.simulator.messy import EMPTY_BODIES, METRICS_DISABLED_MESSAGE
from copilot_warehouse.config import Scope, day_range

HEADERS = {"Authorization": "Bearer sim-token", "X-GitHub-Api-Version": "2026-03-10"}
ORG = Scope("organization", "octo-demo")
ORG_B = Scope("organization", "acme-labs")
ENT = Scope("enterprise", "octo-enterprise")
SCOPES = (ORG, ORG_B, ENT)
DAY = "2026-11-18"
E2E_FIRST, E2E_LAST = date(2026, 11, 2), date(2026, 11, 15)  # the end-to-end test's range
MESSY = SimulatorConfig(messy=True)
CLEAN = Dataset(SimulatorConfig())
ALL_KINDS = {
    "restated_day", "renamed_login", "seat_assignee_null", "seat_assignee_team", "offset_timestamps",
    "inconsistent_actives", "report_unavailable", "empty_200", "aggregate_late",
}  # fmt: skip
# Digest of the default configuration's answers (see served_digest). First computed on commit
# bd3c945, before per-scope answers and messy mode existed; recomputed once on purpose when the
# default data gained pull-request medians, more desktop app users and completion lines that never
# exceed their suggestions. Options such as messy mode must never change it.
DEFAULT_DIGEST = "2477b804defaa8a89df4709726d33fc96153c61804884e572f80cf9c19f96edf"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return Dataset(MESSY).messy_manifest()


def events(manifest: dict, kind: str, **match: object) -> list[dict]:
    return [e for e in manifest["events"] if e["kind"] == kind and all(e[k] == v for k, v in match.items())]


def in_e2e_range(event: dict) -> bool:
    return event["day"] is not None and E2E_FIRST <= date.fromisoformat(event["day"]) <= E2E_LAST


def scope_of(event: dict) -> Scope:
    return Scope(event["scope_type"], event["scope"])


def api(sim: SimulatorServer, path: str, **params: object) -> requests.Response:
    return requests.get(sim.url + path, headers=HEADERS, params=params, timeout=30)


def report(sim: SimulatorServer, scope: Scope, name: str, day: str | date | None = None) -> requests.Response:
    path = f"{scope.api_prefix}/copilot/metrics/reports/{name}"
    if day is None:
        return api(sim, path + "/latest")
    return api(sim, path, day=str(day))


def download(links: list[str]) -> list[dict]:
    records = []
    for link in links:
        r = requests.get(link, timeout=30)
        assert r.status_code == 200
        records += [json.loads(line) for line in r.text.splitlines()]
    return records


def fetch(sim: SimulatorServer, scope: Scope, name: str, day: str | date) -> list[dict]:
    r = report(sim, scope, name, day)
    assert r.status_code == 200, (scope, name, day, r.status_code, r.text)
    return download(r.json()["download_links"])


def fetch_final(sim: SimulatorServer, scope: Scope, name: str, day: str | date) -> list[dict]:
    """The final version of a report: a restated day's first answer is version 1, so ask again."""
    records = fetch(sim, scope, name, day)
    if sim.served_versions(scope, name, day)[-1:] == [1]:
        records = fetch(sim, scope, name, day)
    return records


def latest_aggregate(sim: SimulatorServer, scope: Scope) -> dict:
    r = report(sim, scope, f"{scope.type}-28-day")
    assert r.status_code == 200
    (record,) = download(r.json()["download_links"])
    return record


def all_seats(sim: SimulatorServer, scope: Scope, per_page: int = 7) -> tuple[int, list[dict]]:
    rows, page, totals = [], 1, set()
    while True:
        r = api(sim, f"{scope.api_prefix}/copilot/billing/seats", page=page, per_page=per_page)
        assert r.status_code == 200
        totals.add(r.json()["total_seats"])
        rows += r.json()["seats"]
        if 'rel="next"' not in r.headers.get("Link", ""):
            break
        page += 1
    assert len(totals) == 1  # every page reports the same total
    return totals.pop(), rows


def instant(ts: str) -> datetime:
    parsed = datetime.fromisoformat(ts)
    assert parsed.tzinfo is not None, ts
    return parsed.astimezone(UTC)


def served_digest(sim: SimulatorServer) -> str:
    """SHA-256 over the status and bytes of every report of every scope on a few days (inside and
    outside the range), the 28-day reports, every seats page and billing; the download links
    themselves (signed, expiring) are left out."""
    h = hashlib.sha256()
    days = [
        "2026-10-04",
        "2026-10-05",
        "2026-11-02",
        "2026-11-08",
        "2026-11-14",
        DAY,
        "2026-11-22",
        "2026-11-23",
    ]
    for scope in SCOPES:
        agg = f"{scope.type}-1-day"
        for name in (agg, "users-1-day", "user-teams-1-day", "repos-1-day"):
            for d in days:
                r = report(sim, scope, name, d)
                h.update(f"{scope.api_prefix}/{name}/{d}:{r.status_code}\n".encode())
                body = r.json() if r.status_code == 200 and r.content else None
                if isinstance(body, dict):
                    h.update(
                        json.dumps(
                            {k: v for k, v in body.items() if k != "download_links"}, sort_keys=True
                        ).encode()
                    )
                    for link in body["download_links"]:
                        h.update(requests.get(link, timeout=30).content)
        for name in (f"{scope.type}-28-day", "users-28-day"):
            body = report(sim, scope, name).json()
            h.update(
                json.dumps({k: v for k, v in body.items() if k != "download_links"}, sort_keys=True).encode()
            )
            for link in body["download_links"]:
                h.update(requests.get(link, timeout=30).content)
        page = 1
        while True:
            r = api(sim, f"{scope.api_prefix}/copilot/billing/seats", page=page, per_page=30)
            h.update(r.content)
            if 'rel="next"' not in r.headers.get("Link", ""):
                break
            page += 1
        h.update(api(sim, f"{scope.api_prefix}/copilot/billing").content)
    return h.hexdigest()


# --- the default configuration is unchanged --------------------------------------------------


def test_the_default_configuration_serves_the_same_bytes_as_before(make_simulator) -> None:
    explicit = dict(forbidden_scopes=(), metrics_disabled_scopes=(), unavailable_reports={}, messy=False)
    assert dataclasses.replace(SimulatorConfig(), **explicit) == SimulatorConfig()
    assert served_digest(make_simulator()) == DEFAULT_DIGEST
    assert served_digest(make_simulator(**explicit)) == DEFAULT_DIGEST
    assert CLEAN.messy_plan is None
    assert CLEAN.messy_manifest()["events"] == [] and CLEAN.messy_manifest()["messy"] is False


def test_messy_mode_differs_from_the_default(make_simulator) -> None:
    assert served_digest(make_simulator(messy=True)) != DEFAULT_DIGEST


# --- per-scope answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "status", "message"),
    [
        pytest.param(
            "forbidden_scopes", 403, "'Copilot usage metrics' policy is disabled", id="forbidden: 403"
        ),
        pytest.param("metrics_disabled_scopes", 422, METRICS_DISABLED_MESSAGE, id="metrics disabled: 422"),
    ],
)
@pytest.mark.parametrize("refused", [ORG_B, ENT], ids=["an org", "an enterprise"])
def test_a_refused_scope_answers_every_metrics_call_but_billing_and_seats(
    make_simulator, field: str, status: int, message: str, refused: Scope
) -> None:
    sim = make_simulator(
        **{field: (refused.name,)}, legacy_start=date(2026, 3, 1), legacy_end=date(2026, 3, 31)
    )
    agg = f"{refused.type}-1-day"
    calls = [(name, DAY) for name in (agg, "users-1-day", "user-teams-1-day", "repos-1-day")]
    calls += [("users-1-day", "2026-01-01"), ("users-28-day", None), (f"{refused.type}-28-day", None)]
    for name, day in calls:
        r = report(sim, refused, name, day)
        assert r.status_code == status, (name, day)
        body = r.json()
        assert message in body["message"] and body["status"] == str(status) and body["documentation_url"]
        assert "x-ratelimit-remaining" in r.headers
    assert api(sim, f"{refused.api_prefix}/copilot/metrics").status_code == status  # legacy API too
    seats = api(sim, f"{refused.api_prefix}/copilot/billing/seats")
    assert seats.status_code == 200 and seats.json()["total_seats"] == sim.dataset.total_seats(refused) > 0
    assert api(sim, f"{refused.api_prefix}/copilot/billing").status_code == 200
    # the other scopes are untouched, and an unknown org still answers 404
    assert fetch(sim, ORG, "users-1-day", DAY) == sim.dataset.users(ORG, date.fromisoformat(DAY))
    assert report(sim, Scope("organization", "no-such-org"), "users-1-day", DAY).status_code == 404
    (event,) = events(sim.dataset.messy_manifest(), field.removesuffix("_scopes"), scope=refused.name)
    assert event["source"] == "config" and event["values"]["status"] == status


def test_policies_can_change_while_the_server_runs(make_simulator) -> None:
    sim = make_simulator()
    assert report(sim, ORG, "users-1-day", DAY).status_code == 200
    sim.set_forbidden(ORG.name)
    assert report(sim, ORG, "users-1-day", DAY).status_code == 403
    sim.set_forbidden(ORG.name, False)
    sim.set_metrics_disabled(ORG.name)
    assert report(sim, ORG, "users-1-day", DAY).status_code == 422
    sim.set_metrics_disabled(ORG.name, False)
    assert fetch(sim, ORG, "users-1-day", DAY) == sim.dataset.users(ORG, date.fromisoformat(DAY))


def test_an_unavailable_report_answers_404_until_github_turns_it_on(make_simulator) -> None:
    sim = make_simulator(unavailable_reports={ORG_B.name: ("repos-1-day", "users-28-day")})
    assert sim.config.unavailable_reports == ((ORG_B.name, ("repos-1-day", "users-28-day")),)
    for name, day in (("repos-1-day", DAY), ("repos-1-day", "2026-01-01"), ("users-28-day", None)):
        r = report(sim, ORG_B, name, day)
        assert r.status_code == 404 and r.json()["message"] == "Not Found"
    # the scope's other reports and the other org's repos still load
    assert fetch(sim, ORG_B, "users-1-day", DAY) == sim.dataset.users(ORG_B, date.fromisoformat(DAY))
    assert fetch(sim, ORG, "repos-1-day", DAY) == sim.dataset.repos(ORG, date.fromisoformat(DAY))
    manifest = sim.dataset.messy_manifest()
    assert {
        (e["report"], e["source"], e["values"]["status"]) for e in events(manifest, "report_unavailable")
    } == {
        ("repos-1-day", "config", 404),
        ("users-28-day", "config", 404),
    }
    sim.set_report_available(ORG_B.name, "repos-1-day")
    expected = sim.dataset.repos(ORG_B, date.fromisoformat(DAY))
    assert expected and fetch(sim, ORG_B, "repos-1-day", DAY) == expected
    assert report(sim, ORG_B, "users-28-day").status_code == 404
    sim.set_report_available(ORG_B.name, "repos-1-day", False)
    assert report(sim, ORG_B, "repos-1-day", DAY).status_code == 404


def test_per_scope_fields_keep_the_config_frozen_and_hashable() -> None:
    as_dict = SimulatorConfig(unavailable_reports={"acme-labs": ["repos-1-day"], "octo-demo": "users-1-day"})
    as_pairs = SimulatorConfig(
        unavailable_reports=[("octo-demo", "users-1-day"), ("acme-labs", ("repos-1-day",))]
    )
    assert as_dict == as_pairs and hash(as_dict) == hash(as_pairs)
    assert as_dict.unavailable_reports == (("acme-labs", ("repos-1-day",)), ("octo-demo", ("users-1-day",)))
    assert as_dict.unavailable_for("acme-labs") == ("repos-1-day",) and as_dict.unavailable_for("x") == ()
    listed = SimulatorConfig(forbidden_scopes=["octo-demo"], metrics_disabled_scopes=["octo-enterprise"])
    assert listed.forbidden_scopes == ("octo-demo",) and listed.metrics_disabled_scopes == (
        "octo-enterprise",
    )
    assert len({as_dict, as_pairs, listed, SimulatorConfig(), SimulatorConfig(messy=True)}) == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        listed.messy = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"forbidden_scopes": ("nobody",)}, "not a configured", id="forbidden: unknown slug"),
        pytest.param(
            {"metrics_disabled_scopes": ("nobody",)}, "not a configured", id="disabled: unknown slug"
        ),
        pytest.param(
            {"unavailable_reports": {"nobody": ("repos-1-day",)}}, "not a configured", id="unknown slug"
        ),
        pytest.param(
            {"unavailable_reports": {"octo-demo": ("enterprise-1-day",)}},
            "has no report",
            id="an enterprise report for an org",
        ),  # fmt: skip
        pytest.param({"unavailable_reports": {"octo-demo": ("repo-1-day",)}}, "has no report", id="typo"),
        pytest.param({"unavailable_reports": ["octo-demo"]}, "must map slugs", id="not pairs"),
    ],
)
def test_per_scope_fields_are_checked(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimulatorConfig(**overrides)


# --- messy mode: draws -----------------------------------------------------------------------


def test_every_kind_of_oddity_occurs_also_inside_the_end_to_end_range(manifest: dict) -> None:
    kinds = Counter(e["kind"] for e in manifest["events"])
    assert set(kinds) == ALL_KINDS
    dated = {
        "restated_day",
        "renamed_login",
        "offset_timestamps",
        "inconsistent_actives",
        "empty_200",
        "aggregate_late",
    }
    assert {e["kind"] for e in manifest["events"] if in_e2e_range(e)} >= dated
    in_range = [e for e in manifest["events"] if in_e2e_range(e)]
    assert {e["values"]["rule"] for e in in_range if e["kind"] == "inconsistent_actives"} == {
        "weekly_active_users > monthly_active_users",
        "daily_active_users > weekly_active_users",
    }
    assert {e["values"]["status"] for e in in_range if e["kind"] == "aggregate_late"} == {200, 204}
    assert {e["values"]["body"] for e in manifest["events"] if e["kind"] == "empty_200"} == {'""', "null", ""}
    assert {e["report"] for e in in_range if e["kind"] == "offset_timestamps"} == {"users-1-day"}
    assert events(manifest, "offset_timestamps", report="seats")  # seats carry no day
    assert all(e["source"] == "messy" for e in manifest["events"])


def test_the_manifest_is_deterministic_and_json_ready(manifest: dict) -> None:
    again = Dataset(SimulatorConfig(messy=True)).messy_manifest()
    assert json.loads(json.dumps(manifest)) == manifest == again
    other = Dataset(SimulatorConfig(messy=True, seed=7)).messy_manifest()
    assert other["events"] != manifest["events"] and other["seed"] == 7
    keys = {"kind", "source", "scope_type", "scope", "report", "day", "values"}
    assert all(set(e) == keys for e in manifest["events"])
    order = [
        (e["kind"], e["scope_type"], e["scope"], e["report"] or "", e["day"] or "")
        for e in manifest["events"]
    ]
    assert order == sorted(order)


def test_the_dataset_stays_a_pure_function_of_config_scope_and_day() -> None:
    days = day_range(E2E_FIRST, E2E_LAST)
    forward, backward = Dataset(MESSY), Dataset(MESSY)
    expected = {
        (s, d): (forward.users(s, d), forward.aggregate(s, d), forward.users(s, d, 1))
        for s in SCOPES
        for d in days
    }
    got = {(s, d): (backward.users(s, d), backward.aggregate(s, d), backward.users(s, d, 1))
           for s in reversed(SCOPES) for d in reversed(days)}  # fmt: skip
    assert got == expected
    assert backward.seats(ENT) == forward.seats(ENT)


def normalised(value: object) -> object:
    """A record with every ``sampled_at`` turned into its UTC instant and ``user_login`` dropped."""
    if isinstance(value, dict):
        return {
            k: (instant(v) if k == "sampled_at" else normalised(v))
            for k, v in value.items()
            if k != "user_login"
        }
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def test_messy_final_records_are_the_clean_records_apart_from_logins_and_offsets() -> None:
    messy, compared = Dataset(MESSY), 0
    for scope in SCOPES:
        for d in day_range(E2E_FIRST, E2E_LAST):
            clean, final = CLEAN.users(scope, d), messy.users(scope, d)
            assert normalised(final) == normalised(clean)
            compared += len(final)
            if final and messy.messy_plan.offset_days.get(d):
                assert final != clean  # same instants, other spelling
    assert compared > 300


# --- messy mode over HTTP --------------------------------------------------------------------


def test_a_restated_day_changes_between_the_first_fetch_and_later_ones(
    make_simulator, manifest: dict
) -> None:
    restated = [e for e in events(manifest, "restated_day", report="users-1-day") if in_e2e_range(e)]
    assert restated
    sim = make_simulator(messy=True)
    for event in restated:
        scope, day = scope_of(event), date.fromisoformat(event["day"])
        agg = f"{scope.type}-1-day"
        first_links = report(sim, scope, "users-1-day", day).json()["download_links"]
        first_users = download(first_links)
        first_agg = fetch(sim, scope, agg, day)
        later_users = fetch(sim, scope, "users-1-day", day)
        later_agg = fetch(sim, scope, agg, day)
        assert fetch(sim, scope, "users-1-day", day) == later_users  # the final version stays
        assert sim.served_versions(scope, "users-1-day", day) == [1, 2, 2]
        assert sim.served_versions(scope, agg, day) == [1, 2]
        # version 2 is final: the clean day (same users, same counters); version 1 is different
        assert later_users == sim.dataset.users(scope, day)
        assert [u["user_id"] for u in later_users] == [u["user_id"] for u in CLEAN.users(scope, day)]
        assert later_agg == [sim.dataset.aggregate(scope, day)]
        clean_agg = CLEAN.aggregate(scope, day)
        assert all(later_agg[0][c] == clean_agg[c] for c in COUNTERS)
        assert first_users == sim.dataset.users(scope, day, version=1) != later_users
        assert len(first_users) < len(later_users)
        assert {u["user_id"] for u in first_users} < {u["user_id"] for u in later_users}
        # users and aggregate agree within each version
        for users, (aggregate,) in ((first_users, first_agg), (later_users, later_agg)):
            assert aggregate["daily_active_users"] == len(users)
            for counter in COUNTERS:
                assert aggregate[counter] == sum(u[counter] for u in users)
        assert (
            first_agg[0]["code_generation_activity_count"] != later_agg[0]["code_generation_activity_count"]
        )
        # the manifest describes both versions and names the final one
        assert event["values"]["first_version"] == 1 and event["values"]["final_version"] == 2
        for version, users in (("1", first_users), ("2", later_users)):
            summary = event["values"]["versions"][version]
            assert summary["records"] == len(users)
            assert summary["user_ids"] == sorted(u["user_id"] for u in users)
            assert summary["code_acceptance_activity_count"] == sum(
                u["code_acceptance_activity_count"] for u in users
            )
        # a link handed out with version 1 keeps serving version 1
        assert download(first_links) == first_users


def test_a_day_that_is_not_restated_has_one_version(make_simulator) -> None:
    sim = make_simulator(messy=True)
    restated = {(scope_of(e), e["day"]) for e in events(sim.dataset.messy_manifest(), "restated_day")}
    day = next(d for d in day_range(E2E_FIRST, E2E_LAST) if (ORG, d.isoformat()) not in restated)
    assert (
        fetch(sim, ORG, "users-1-day", day)
        == fetch(sim, ORG, "users-1-day", day)
        == sim.dataset.users(ORG, day)
    )
    assert sim.served_versions(ORG, "users-1-day", day) == []


def test_a_renamed_login_keeps_its_user_id_in_users_user_teams_and_seats(
    make_simulator, manifest: dict
) -> None:
    renames = [
        e for e in events(manifest, "renamed_login") if in_e2e_range(e) and e["scope_type"] == "organization"
    ]
    assert renames
    sim = make_simulator(messy=True)
    for event in renames:
        v = event["values"]
        scope, start = scope_of(event), date.fromisoformat(v["from_day"])
        assert v["old_login"] != v["new_login"]
        assert CLEAN.user_profile(v["user_id"]).login == v["old_login"]
        seen: dict[str, set[bool]] = {"users": set(), "teams": set()}
        for d in day_range(
            start - timedelta(days=start.weekday()), start + timedelta(days=6 - start.weekday())
        ):
            want = v["new_login"] if d >= start else v["old_login"]
            for key, name in (("users", "users-1-day"), ("teams", "user-teams-1-day")):
                for row in fetch_final(sim, scope, name, d):
                    if row["user_id"] == v["user_id"]:
                        assert row["user_login"] == want, (name, d)
                        seen[key].add(d >= start)
        assert seen["users"] == {False, True}  # old login before, new login after, inside one week
        _, seats = all_seats(sim, scope)
        mine = [s for s in seats if s["assignee"] and s["assignee"].get("id") == v["user_id"]]
        assert mine and all(s["assignee"]["login"] == v["new_login"] for s in mine)
        assert all(v["new_login"] in s["assignee"]["html_url"] for s in mine)
    # the user-teams report shows the rename too (somewhere in the range)
    teams_rows = [
        (row["day"], row["user_login"])
        for e in events(manifest, "renamed_login", scope_type="organization")
        for d in day_range(MESSY.start_day, MESSY.end_day)
        for row in sim.dataset.user_teams(scope_of(e), d)
        if row["user_id"] == e["values"]["user_id"] and row["user_login"] == e["values"]["new_login"]
    ]
    assert teams_rows


@pytest.mark.parametrize("scope", [ORG, ORG_B, ENT], ids=lambda s: s.name)
def test_seats_hold_null_and_team_assignees_and_total_seats_counts_users(
    make_simulator, manifest, scope
) -> None:
    sim = make_simulator(messy=True)
    total, rows = all_seats(sim, scope)
    users = [s for s in rows if s["assignee"] is not None and s["assignee"].get("type") == "User"]
    odd = [s for s in rows if s not in users]
    assert total == len({s["assignee"]["id"] for s in users}) == sim.dataset.total_seats(scope)
    assert total == CLEAN.total_seats(scope)  # the same people hold seats as in the clean data
    listed = events(manifest, "seat_assignee_null", scope=scope.name) + events(
        manifest, "seat_assignee_team", scope=scope.name
    )
    assert len(odd) == len(listed) and sorted(e["values"]["position"] for e in listed) == [
        k for k, s in enumerate(rows) if s in odd
    ]
    for e in listed:
        assert e["values"]["total_seats"] == total and e["values"]["rows"] == len(rows)
        seat = rows[e["values"]["position"]]
        if e["kind"] == "seat_assignee_null":
            assert seat["assignee"] is None
        else:
            a = seat["assignee"]
            assert {"id", "node_id", "slug", "name", "url"} <= set(a) and not {"login", "type"} & set(a)
            assert a == e["values"]["assignee"]
    billing = api(sim, f"{scope.api_prefix}/copilot/billing").json()
    assert billing["seat_breakdown"]["total"] == total
    assert billing == CLEAN.billing(scope)  # offsets and odd rows do not change the billing figures
    if scope == ENT:
        assert {e["kind"] for e in listed} == {"seat_assignee_null", "seat_assignee_team"}
        assert len(rows) > total  # a member of two orgs has two rows, plus the odd rows


def test_seat_timestamps_with_offsets_are_the_clean_instants(make_simulator, manifest: dict) -> None:
    sim = make_simulator(messy=True)
    seen_offsets = set()
    for scope in (ORG, ORG_B):
        _, rows = all_seats(sim, scope)
        clean = {s["assignee"]["id"]: s for s in CLEAN.seats(scope)}
        listed = {e["values"]["user_id"]: e for e in events(manifest, "offset_timestamps", scope=scope.name)
                  if e["report"] == "seats"}  # fmt: skip
        shifted = 0
        for seat in (s for s in rows if s["assignee"] and s["assignee"].get("type") == "User"):
            c = clean[seat["assignee"]["id"]]
            for name in ("created_at", "updated_at", "last_activity_at", "last_authenticated_at"):
                if c[name] is None:
                    assert seat[name] is None
                    continue
                assert instant(seat[name]) == instant(c[name])
                if not seat[name].endswith("Z"):
                    shifted += 1
                    seen_offsets.add(seat[name][-6:])
                    assert listed[seat["assignee"]["id"]]["values"]["fields"][name] == {
                        "served": seat[name],
                        "utc": c[name],
                    }
        assert shifted > 0 and set(listed) <= {s["assignee"]["id"] for s in rows if s["assignee"]}
    assert "-05:00" in seen_offsets and "+02:00" in seen_offsets


def test_users_sampled_at_with_an_offset_is_the_clean_instant(make_simulator, manifest: dict) -> None:
    offset_days = [e for e in events(manifest, "offset_timestamps", report="users-1-day") if in_e2e_range(e)]
    assert offset_days
    sim = make_simulator(messy=True)
    for event in offset_days:
        scope, day = scope_of(event), date.fromisoformat(event["day"])
        served = fetch_final(sim, scope, "users-1-day", day)
        clean = {u["user_id"]: u for u in CLEAN.users(scope, day)}
        assert len(served) == event["values"]["records"]
        stamps = 0
        for user in served:
            for ide, clean_ide in zip(
                user["totals_by_ide"], clean[user["user_id"]]["totals_by_ide"], strict=True
            ):
                for key in ("last_known_ide_version", "last_known_plugin_version"):
                    value = ide[key]["sampled_at"]
                    assert value.endswith(event["values"]["offset"]) and not value.endswith("Z")
                    assert instant(value) == instant(clean_ide[key]["sampled_at"])
                    stamps += 1
            if "totals_by_cli" in user:
                value = user["totals_by_cli"]["last_known_cli_version"]["sampled_at"]
                assert instant(value) == instant(
                    clean[user["user_id"]]["totals_by_cli"]["last_known_cli_version"]["sampled_at"]
                )
        assert stamps > 0


def test_inconsistent_active_counts_are_served_as_listed(make_simulator, manifest: dict) -> None:
    listed = events(manifest, "inconsistent_actives")
    assert listed
    sim = make_simulator(messy=True)
    start_28, end_28 = sim.dataset.window_28_day()
    day_totals = {
        scope: {t["day"]: t for t in latest_aggregate(sim, scope)["day_totals"]} for scope in SCOPES
    }
    for event in listed:
        scope, day = scope_of(event), date.fromisoformat(event["day"])
        (aggregate,) = fetch(sim, scope, event["report"], day)
        served = {k: aggregate[k] for k in event["values"]["served"]}
        assert served == event["values"]["served"]
        daily, weekly, monthly = (
            served[k] for k in ("daily_active_users", "weekly_active_users", "monthly_active_users")
        )
        if event["values"]["rule"].startswith("weekly"):
            assert weekly > monthly
        else:
            assert daily > weekly
        clean = CLEAN.aggregate(scope, day)
        assert event["values"]["clean"] == {k: clean[k] for k in served}
        assert {k: v for k, v in aggregate.items() if k != "weekly_active_users"} == {
            k: v for k, v in clean.items() if k != "weekly_active_users"
        }
        assert len(fetch(sim, scope, "users-1-day", day)) == daily  # the users report is untouched
        if start_28 <= day <= end_28:
            assert day_totals[scope][event["day"]]["weekly_active_users"] == weekly


def test_empty_200_answers_instead_of_204(make_simulator, manifest: dict) -> None:
    sim = make_simulator(messy=True)
    listed = events(manifest, "empty_200")
    checked = set()
    for event in listed:
        body = event["values"]["body"]
        if (body, event["day"] < MESSY.start_day.isoformat()) in checked:
            continue
        checked.add((body, event["day"] < MESSY.start_day.isoformat()))
        r = report(sim, scope_of(event), event["report"], event["day"])
        assert (
            r.status_code == 200
            and r.content == body.encode()
            and r.headers["Content-Length"] == str(len(body))
        )
        assert "x-ratelimit-remaining" in r.headers
    assert {b for b, _ in checked} == {e.decode() for e in EMPTY_BODIES}
    # the other no-report days still answer 204, and far outside the range nothing is drawn
    empty = {(scope_of(e), e["report"], e["day"]) for e in listed}
    before = [d for d in day_range(MESSY.start_day - timedelta(days=14), MESSY.start_day - timedelta(days=1))
              if (ORG, "users-1-day", d.isoformat()) not in empty]  # fmt: skip
    assert before and report(sim, ORG, "users-1-day", before[0]).status_code == 204
    for far in (MESSY.start_day - timedelta(days=60), MESSY.end_day + timedelta(days=30)):
        for scope in SCOPES:
            assert report(sim, scope, "users-1-day", far).status_code == 204
    assert report(sim, ORG, "users-28-day").status_code == 200


def test_a_late_aggregate_leaves_the_users_report_alone(make_simulator, manifest: dict) -> None:
    late = [e for e in events(manifest, "aggregate_late") if in_e2e_range(e)]
    assert {e["values"]["status"] for e in late} == {200, 204}
    sim = make_simulator(messy=True)
    start_28, _ = sim.dataset.window_28_day()
    day_totals = {scope: {t["day"] for t in latest_aggregate(sim, scope)["day_totals"]} for scope in SCOPES}
    for event in late:
        scope, day = scope_of(event), date.fromisoformat(event["day"])
        assert scope.type == "organization" and event["report"] == "organization-1-day"
        r = report(sim, scope, event["report"], day)
        assert r.status_code == event["values"]["status"]
        if r.status_code == 200:
            assert r.content == event["values"]["body"].encode()
            assert events(manifest, "empty_200", scope=scope.name, report=event["report"], day=event["day"])
        else:
            assert r.content == b""
        users = fetch(sim, scope, "users-1-day", day)
        assert len(users) == event["values"]["users_records"] > 0
        assert [u["user_id"] for u in users] == [u["user_id"] for u in CLEAN.users(scope, day)]
        assert sim.dataset.aggregate(scope, day) is None
        if day >= start_28:
            assert event["day"] not in day_totals[scope]
        # the enterprise's aggregate for that day is there
        assert len(fetch(sim, ENT, "enterprise-1-day", day)) == 1


def test_a_report_missing_for_one_org_can_be_turned_on(make_simulator, manifest: dict) -> None:
    (event,) = events(manifest, "report_unavailable")
    scope = scope_of(event)
    assert (
        event["report"] == "repos-1-day" and event["values"]["status"] == 404 and scope.type == "organization"
    )
    sim = make_simulator(messy=True)
    assert report(sim, scope, "repos-1-day", DAY).status_code == 404
    assert fetch(sim, scope, "users-1-day", DAY)  # its other reports work
    other = next(s for s in (ORG, ORG_B) if s != scope)
    assert fetch(sim, other, "repos-1-day", DAY) == sim.dataset.repos(other, date.fromisoformat(DAY))
    sim.set_report_available(scope.name, "repos-1-day")
    assert fetch(sim, scope, "repos-1-day", DAY) == sim.dataset.repos(scope, date.fromisoformat(DAY))


def test_messy_mode_with_per_scope_answers(make_simulator) -> None:
    sim = make_simulator(
        messy=True, forbidden_scopes=(ENT.name,), unavailable_reports={ORG.name: ("users-28-day",)}
    )
    manifest = sim.dataset.messy_manifest()
    assert {(e["scope"], e["source"]) for e in events(manifest, "forbidden")} == {(ENT.name, "config")}
    assert ("users-28-day", "config") in {
        (e["report"], e["source"]) for e in events(manifest, "report_unavailable")
    }
    assert report(sim, ENT, "enterprise-1-day", DAY).status_code == 403
    assert report(sim, ORG, "users-28-day").status_code == 404
    assert fetch(sim, ORG, "organization-1-day", DAY) == [sim.dataset.aggregate(ORG, date.fromisoformat(DAY))]
