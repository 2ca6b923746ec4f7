"""Messy mode: the odd-but-real shapes of GitHub's Copilot data, drawn at random but reproducibly.

``SimulatorConfig(messy=True)`` (CLI ``--messy``) makes the simulator serve what real
deployments send besides clean, consistent data. Every draw is a pure function of the
configuration (``blake2b`` of seed + scope + day, never ``hash()``): the same configuration
always gives the same oddities, and :meth:`Dataset.messy_manifest` lists every one of them.

The oddities (``kind`` in the manifest):

- ``restated_day``: GitHub restates a day (for up to three days). For the chosen (scope, day)
  the ``<scope>-1-day`` and ``users-1-day`` reports exist in two versions. The *first*
  report-links call of each of those reports for that day serves **version 1** (some users
  missing, the others with different counters; the aggregate is the sum of version 1's users);
  every later call serves **version 2, the final version**, which is the clean data (what
  :meth:`Dataset.users` / :meth:`Dataset.aggregate` return by default). A download link keeps the
  version its report-links call chose. ``SimulatorServer.served_versions`` tells which versions a
  server handed out. ``user-teams-1-day`` and ``repos-1-day`` are not restated.
- ``renamed_login``: a user's ``user_login`` changes from ``from_day`` on (same ``user_id``), in
  ``users-1-day``, ``user-teams-1-day``, ``users-28-day`` and the seat listings (the seat snapshot
  is taken on ``end_day``, so it shows the new login).
- ``seat_assignee_null`` / ``seat_assignee_team``: a seat row with ``"assignee": null`` and one whose
  assignee is a Team (older schema: ``id``, ``node_id``, ``slug``, ``name``, ``url``, ... but no
  ``login`` and no ``type``), in addition to the user seats. ``total_seats`` stays GitHub's count of
  billed seats: the distinct users (``assignee.type == "User"``), not the number of rows.
- ``offset_timestamps``: timestamps written with a non-UTC offset for the same instant the clean
  data has (``2026-11-21T03:30:00Z`` served as ``2026-11-20T22:30:00-05:00``): every ``sampled_at``
  in the users records of one chosen day per week, and ``created_at`` / ``updated_at`` /
  ``last_activity_at`` / ``last_authenticated_at`` of about one seat in four.
- ``inconsistent_actives``: GitHub's own active-user counts disagree on a chosen aggregate day:
  ``weekly_active_users > monthly_active_users`` (even ISO weeks) or
  ``daily_active_users > weekly_active_users`` (odd ISO weeks). Only ``weekly_active_users`` is
  changed; the users report is untouched. The 28-day aggregate's ``day_totals`` carry the same values.
- ``report_unavailable``: ``repos-1-day`` answers 404 for one organization (a report not offered for
  its plan or region), through the ``unavailable_reports`` mechanism (``SimulatorServer.
  set_report_available`` turns it on).
- ``empty_200``: a report-links call for a day without a report answers ``200`` with a body of
  ``""``, ``null`` or nothing at all (``Content-Length: 0``) instead of ``204``: about 4 in 10
  (scope, report, day) of the 14 days before ``start_day`` and the 3 days after ``end_day``, and
  the late aggregates below that answer 200.
- ``aggregate_late``: for a chosen (organization, day) the users report has data while
  ``organization-1-day`` has no report (204, or an empty 200 listed as ``empty_200`` too). It stays
  late for the server's whole life; the 28-day aggregate leaves that day out as well.

Coverage: every ISO week inside ``start_day..end_day`` gets one ``restated_day``, one
``inconsistent_actives``, two ``aggregate_late`` (one 204, one empty 200) on distinct (scope, day)
pairs, one ``renamed_login`` (old login seen earlier in that week, new one later) and one
``offset_timestamps`` day; so any run over a whole ISO week meets every kind.

Besides, explicit configuration knobs are listed with ``"source": "config"``: ``forbidden``
(403 on every metrics call of a scope), ``metrics_disabled`` (422) and ``report_unavailable`` (404).

Manifest format (``Dataset.messy_manifest()``)::

    {"seed": 42, "messy": true, "start_day": "2026-10-05", "end_day": "2026-11-22",
     "events": [{"kind": ..., "source": "messy" | "config",
                 "scope_type": "organization" | "enterprise", "scope": "<slug>",
                 "report": "<report name>" | "seats" | null, "day": "YYYY-MM-DD" | null,
                 "values": {...}}, ...]}

Events are sorted by (kind, scope_type, scope, report, day). ``values`` per kind:

- ``restated_day`` (one event per restated report): ``first_version`` 1, ``final_version`` 2,
  ``versions`` ``{"1": summary, "2": summary}`` where a summary holds ``records`` and ``user_ids``
  (users report) or ``daily_active_users`` (aggregate), plus the sum of every top-level counter.
- ``renamed_login`` (one event per scope the user belongs to, report ``users-1-day``): ``user_id``,
  ``old_login``, ``new_login``, ``from_day``, ``reports`` (every report that shows the login).
- ``seat_assignee_null`` / ``seat_assignee_team`` (report ``seats``): ``position`` (0-based row in
  the listing), ``assignee`` (null or the Team object), ``total_seats``, ``rows``.
- ``offset_timestamps``: users (report ``users-1-day``, the day): ``offset``, ``fields`` (paths),
  ``records``; seats (report ``seats``): ``user_id``, ``login``, ``fields``
  ``{name: {"served": ..., "utc": ...}}``.
- ``inconsistent_actives``: ``rule``, ``field``, ``served`` and ``clean`` (daily / weekly / monthly
  active users).
- ``report_unavailable``: ``status`` 404. ``forbidden``: ``status`` 403, ``message``.
  ``metrics_disabled``: ``status`` 422, ``message``.
- ``empty_200``: ``status`` 200, ``body`` (``'""'``, ``'null'`` or ``''``: the exact bytes).
- ``aggregate_late``: ``status`` (204 or 200), ``body`` (None for 204), ``users_records``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from copilot_warehouse.config import ENTERPRISE, ORGANIZATION, Scope, day_range

if TYPE_CHECKING:
    from copilot_dev.simulator.data import Dataset

OFFSETS: tuple[str, ...] = ("-05:00", "+02:00", "+09:00", "+05:30", "-08:00")
EMPTY_BODIES: tuple[bytes, ...] = (b'""', b"null", b"")
EMPTY_DAYS_BEFORE = 14
EMPTY_DAYS_AFTER = 3
EMPTY_SHARE = 0.4
SEAT_OFFSET_SHARE = 0.25
FIRST_VERSION = 1
FINAL_VERSION = 2
SURNAMES: tuple[str, ...] = (
    "okafor",
    "lindqvist",
    "tanaka",
    "moreau",
    "silva",
    "novak",
    "haddad",
    "kowalski",
)
FORBIDDEN_MESSAGE = (
    "Resource not accessible: the 'Copilot usage metrics' policy is disabled for this organization "
    "or enterprise, or the token requires admin, or relevant organization role access"
)
METRICS_DISABLED_MESSAGE = (
    "Copilot Usage Metrics API setting is disabled at the organization or enterprise level"
)
SAMPLED_AT_FIELDS: tuple[str, ...] = (
    "totals_by_ide[].last_known_ide_version.sampled_at",
    "totals_by_ide[].last_known_plugin_version.sampled_at",
    "totals_by_cli.last_known_cli_version.sampled_at",
)
SEAT_TIME_FIELDS: tuple[tuple[str, ...], ...] = (
    ("created_at", "updated_at"),
    ("last_activity_at", "last_authenticated_at"),
)
LOGIN_REPORTS: tuple[str, ...] = ("users-1-day", "user-teams-1-day", "users-28-day", "seats")


def with_offset(ts: str, offset: str) -> str:
    """The UTC timestamp ``ts`` (``YYYY-MM-DDTHH:MM:SSZ``) written at ``offset`` (``+HH:MM``/``-HH:MM``).

    The instant is the same: ``with_offset("2026-11-21T03:30:00Z", "-05:00")`` is
    ``"2026-11-20T22:30:00-05:00"``.
    """
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = (int(x) for x in offset[1:].split(":"))
    utc = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")
    local = utc + sign * timedelta(hours=hours, minutes=minutes)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + offset


def offset_body(body: dict[str, Any], offset: str) -> dict[str, Any]:
    """Rewrite every ``sampled_at`` of a user-day body at ``offset`` (in place; returns ``body``)."""
    for row in body.get("totals_by_ide", ()):
        for key in ("last_known_ide_version", "last_known_plugin_version"):
            if key in row:
                row[key]["sampled_at"] = with_offset(row[key]["sampled_at"], offset)
    cli = body.get("totals_by_cli")
    if cli and "last_known_cli_version" in cli:
        cli["last_known_cli_version"]["sampled_at"] = with_offset(
            cli["last_known_cli_version"]["sampled_at"], offset
        )
    return body


@dataclass(frozen=True)
class MessyPlan:
    """Every oddity drawn for one configuration (see the module docstring).

    Attributes:
        restated: (scope, day) pairs whose aggregate and users reports have two versions.
        inconsistent: (scope, day) -> ``"weekly_gt_monthly"`` or ``"daily_gt_weekly"``.
        late_aggregates: (organization scope, day) -> the answer body: None for 204, else the
            bytes of an empty 200.
        renames: user index -> (first day of the new login, new login).
        offset_days: day -> offset written into that day's ``sampled_at`` values.
        unavailable: (slug, report) pairs answering 404 (the drawn one; the configured ones are
            added by :meth:`Dataset.unavailable_reports`).
        null_seat: (org, position) of the ``assignee: null`` seat row, or None.
        team_seat: (org, position) of the Team-assignee seat row, or None.
    """

    restated: frozenset[tuple[Scope, date]]
    inconsistent: Mapping[tuple[Scope, date], str]
    late_aggregates: Mapping[tuple[Scope, date], bytes | None]
    renames: Mapping[int, tuple[date, str]]
    offset_days: Mapping[date, str]
    unavailable: tuple[tuple[str, str], ...]
    null_seat: tuple[str, int] | None
    team_seat: tuple[str, int] | None


def _weeks(start: date, end: date) -> list[list[date]]:
    """The days of ``start..end`` grouped by ISO week (Monday first), in order."""
    weeks: dict[date, list[date]] = {}
    for d in day_range(start, end):
        weeks.setdefault(d - timedelta(days=d.weekday()), []).append(d)
    return [weeks[k] for k in sorted(weeks)]


def draw_plan(ds: Dataset) -> MessyPlan:
    """Draw every oddity of ``ds.config`` (pure: same configuration, same plan)."""
    from copilot_dev.simulator.data import stable_int

    c = ds.config
    seed = c.seed
    orgs = [Scope(ORGANIZATION, o) for o in c.orgs]
    scopes = orgs + [Scope(ENTERPRISE, e) for e in c.enterprises]
    late_scopes = orgs or scopes

    def key(*parts: object) -> int:
        return stable_int(seed, "messy", *parts)

    def active(s: Scope, d: date) -> int:
        return len(ds.active_users(s, d))

    restated: set[tuple[Scope, date]] = set()
    inconsistent: dict[tuple[Scope, date], str] = {}
    late: dict[tuple[Scope, date], bytes | None] = {}
    renames: dict[int, tuple[date, str]] = {}
    offset_days: dict[date, str] = {}
    for week in _weeks(c.start_day, c.end_day) if scopes else []:
        used: set[tuple[Scope, date]] = set()
        iso_week = week[0].isocalendar()[1]

        def pick(kind: str, pool: list[Scope], need: int) -> tuple[Scope, date] | None:
            cands = [(s, d) for s in pool for d in week if (s, d) not in used and active(s, d) >= need]  # noqa: B023
            if not cands:
                return None
            choice = min(cands, key=lambda sd: key(kind, sd[0].type, sd[0].name, sd[1].isoformat()))
            used.add(choice)  # noqa: B023
            return choice

        if (sd := pick("restated", scopes, 2)) is not None:
            restated.add(sd)
        if (sd := pick("actives", scopes, 1)) is not None:
            inconsistent[sd] = "weekly_gt_monthly" if iso_week % 2 == 0 else "daily_gt_weekly"
        if (sd := pick("late-204", late_scopes, 1)) is not None:
            late[sd] = None
        if (sd := pick("late-200", late_scopes, 1)) is not None:
            late[sd] = EMPTY_BODIES[key("late-body", sd[0].type, sd[0].name, sd[1].isoformat()) % 3]

        offset_day = min(week, key=lambda d: key("offset-day", d.isoformat()))
        offset_days[offset_day] = OFFSETS[key("offset", offset_day.isoformat()) % len(OFFSETS)]

        facets = {d: ds.day_facets(d) for d in week}
        rename_cands = [
            (i, d)
            for d in week[1:]
            for i in range(ds.universe_size)
            if i not in renames
            and any(i in facets[x] for x in week if x < d)
            and any(i in facets[x] for x in week if x >= d)
        ]
        if rename_cands:
            i, d = min(rename_cands, key=lambda idc: key("rename", idc[0], idc[1].isoformat()))
            p = ds.profiles[i]
            first = p.login.split("-", 1)[0]
            renames[i] = (d, f"{first}-{SURNAMES[key('surname', i) % len(SURNAMES)]}{i}")

    unavailable: tuple[tuple[str, str], ...] = ()
    null_seat = team_seat = None
    if c.orgs:
        org = min(c.orgs, key=lambda o: key("unavailable", o))
        unavailable = ((org, "repos-1-day"),)
        null_org = min(c.orgs, key=lambda o: key("null-seat", o))
        null_seat = (null_org, key("null-seat-pos", null_org))
        team_org = min(c.orgs, key=lambda o: key("team-seat", o))
        team_seat = (team_org, key("team-seat-pos", team_org))
    return MessyPlan(
        restated=frozenset(restated),
        inconsistent=inconsistent,
        late_aggregates=late,
        renames=renames,
        offset_days=offset_days,
        unavailable=unavailable,
        null_seat=null_seat,
        team_seat=team_seat,
    )


def empty_days(ds: Dataset) -> list[date]:
    """The days outside the range where a no-report answer may be an empty 200."""
    c = ds.config
    before = day_range(c.start_day - timedelta(days=EMPTY_DAYS_BEFORE), c.start_day - timedelta(days=1))
    after = day_range(c.end_day + timedelta(days=1), c.end_day + timedelta(days=EMPTY_DAYS_AFTER))
    return before + after


def outside_empty_body(ds: Dataset, scope: Scope, report: str, day: date) -> bytes | None:
    """The empty-200 body drawn for a day outside the range (None: the answer is a 204)."""
    from copilot_dev.simulator.data import _uniform, stable_int

    c = ds.config
    lo = c.start_day - timedelta(days=EMPTY_DAYS_BEFORE)
    hi = c.end_day + timedelta(days=EMPTY_DAYS_AFTER)
    if not (lo <= day <= hi) or ds.in_range(day):
        return None
    parts = (c.seed, "messy", "empty", scope.type, scope.name, report, day.isoformat())
    if _uniform(*parts) >= EMPTY_SHARE:
        return None
    return EMPTY_BODIES[stable_int(*parts, "body") % len(EMPTY_BODIES)]


def _event(
    kind: str, scope: Scope, report: str | None, day: date | None, values: dict, source: str = "messy"
):
    return {
        "kind": kind,
        "source": source,
        "scope_type": scope.type,
        "scope": scope.name,
        "report": report,
        "day": day.isoformat() if day else None,
        "values": values,
    }


def _scopes_of_slug(ds: Dataset, slug: str) -> list[Scope]:
    c = ds.config
    out = [Scope(ORGANIZATION, slug)] if slug in c.orgs else []
    return out + ([Scope(ENTERPRISE, slug)] if slug in c.enterprises else [])


def _summary(records: list[dict[str, Any]], users: bool) -> dict[str, Any]:
    from copilot_dev.simulator.data import COUNTERS

    out: dict[str, Any] = (
        {"records": len(records), "user_ids": sorted(r["user_id"] for r in records)}
        if users
        else {"daily_active_users": records[0]["daily_active_users"] if records else 0}
    )
    out.update({k: sum(r[k] for r in records) for k in COUNTERS})
    return out


def build_manifest(ds: Dataset) -> dict[str, Any]:
    """Every oddity ``ds`` serves, JSON-ready (format: module docstring)."""
    import json

    c = ds.config
    events: list[dict[str, Any]] = []
    for slug in c.forbidden_scopes:
        for s in _scopes_of_slug(ds, slug):
            events.append(
                _event("forbidden", s, None, None, {"status": 403, "message": FORBIDDEN_MESSAGE}, "config")
            )
    for slug in c.metrics_disabled_scopes:
        for s in _scopes_of_slug(ds, slug):
            events.append(
                _event(
                    "metrics_disabled",
                    s,
                    None,
                    None,
                    {"status": 422, "message": METRICS_DISABLED_MESSAGE},
                    "config",
                )
            )
    configured = {(slug, r) for slug, reports in c.unavailable_reports for r in reports}
    for slug, report in sorted(ds.unavailable_reports()):
        source = "config" if (slug, report) in configured else "messy"
        for s in _scopes_of_slug(ds, slug):
            events.append(_event("report_unavailable", s, report, None, {"status": 404}, source))
    plan = ds.messy_plan
    if plan is None:
        return {"seed": c.seed, "messy": False, "start_day": c.start_day.isoformat(),
                "end_day": c.end_day.isoformat(), "events": _sorted(events)}  # fmt: skip
    scopes = [Scope(ORGANIZATION, o) for o in c.orgs] + [Scope(ENTERPRISE, e) for e in c.enterprises]
    unavailable = ds.unavailable_reports()

    for s, day in sorted(plan.restated, key=lambda sd: (sd[0].type, sd[0].name, sd[1])):
        agg = f"{s.type}-1-day"
        for report, users in ((agg, False), ("users-1-day", True)):
            versions = {
                str(v): _summary(
                    [json.loads(line) for line in ds.report_lines(s, report, day, version=v) or []], users
                )
                for v in (FIRST_VERSION, FINAL_VERSION)
            }
            values = {"first_version": FIRST_VERSION, "final_version": FINAL_VERSION, "versions": versions}
            events.append(_event("restated_day", s, report, day, values))

    for index, (day, new_login) in sorted(plan.renames.items()):
        p = ds.profiles[index]
        values = {"user_id": p.user_id, "old_login": p.login, "new_login": new_login,
                  "from_day": day.isoformat(), "reports": list(LOGIN_REPORTS)}  # fmt: skip
        for s in scopes:
            if index in ds.members(s):
                events.append(_event("renamed_login", s, "users-1-day", day, values))

    for s in scopes:
        seats = ds.seats(s)
        total = ds.total_seats(s)
        for k, seat in enumerate(seats):
            a = seat["assignee"]
            if a is None or "type" not in a:
                kind = "seat_assignee_null" if a is None else "seat_assignee_team"
                values = {"position": k, "assignee": a, "total_seats": total, "rows": len(seats)}
                events.append(_event(kind, s, "seats", None, values))
            elif (fields := ds.seat_offset_fields(seat)) is not None:
                values = {"user_id": a["id"], "login": a["login"], "fields": fields}
                events.append(_event("offset_timestamps", s, "seats", None, values))

    for day, offset in sorted(plan.offset_days.items()):
        for s in scopes:
            n = len(ds.users(s, day))
            if n:
                values = {"offset": offset, "fields": list(SAMPLED_AT_FIELDS), "records": n}
                events.append(_event("offset_timestamps", s, "users-1-day", day, values))

    for (s, day), variant in sorted(
        plan.inconsistent.items(), key=lambda kv: (kv[0][0].type, kv[0][0].name, kv[0][1])
    ):
        rec = ds.aggregate(s, day)
        assert rec is not None
        names = ("daily_active_users", "weekly_active_users", "monthly_active_users")
        served = {n: rec[n] for n in names}
        clean = {**served, "weekly_active_users": ds.clean_weekly_active_users(s, day)}
        rule = (
            "weekly_active_users > monthly_active_users"
            if variant == "weekly_gt_monthly"
            else "daily_active_users > weekly_active_users"
        )
        values = {"rule": rule, "field": "weekly_active_users", "served": served, "clean": clean}
        events.append(_event("inconsistent_actives", s, f"{s.type}-1-day", day, values))

    for (s, day), body in sorted(
        plan.late_aggregates.items(), key=lambda kv: (kv[0][0].type, kv[0][0].name, kv[0][1])
    ):
        report = f"{s.type}-1-day"
        text = None if body is None else body.decode()
        values = {
            "status": 204 if body is None else 200,
            "body": text,
            "users_records": len(ds.users(s, day)),
        }
        events.append(_event("aggregate_late", s, report, day, values))
        if body is not None:
            events.append(_event("empty_200", s, report, day, {"status": 200, "body": text}))

    from copilot_dev.simulator.data import DAILY_REPORTS_SERVED

    for s in scopes:
        for report in DAILY_REPORTS_SERVED[s.type]:
            if (s.name, report) in unavailable:
                continue
            for day in empty_days(ds):
                body = ds.empty_answer(s, report, day)
                if body is not None:
                    events.append(_event("empty_200", s, report, day, {"status": 200, "body": body.decode()}))
    return {"seed": c.seed, "messy": True, "start_day": c.start_day.isoformat(),
            "end_day": c.end_day.isoformat(), "events": _sorted(events)}  # fmt: skip


def _sorted(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        events, key=lambda e: (e["kind"], e["scope_type"], e["scope"], e["report"] or "", e["day"] or "")
    )
