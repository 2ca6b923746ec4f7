"""Deterministic, realistic Copilot usage data for the simulator.

Every value is a pure function of ``(seed, scope, day)``: the same configuration gives the same
records whatever order they are asked for in, so tests can compute the clean expected data while
the server serves (possibly faulted) files. Seeds come from ``hashlib.blake2b`` (never ``hash()``,
which changes between processes).

The model:

- A universe of users. Organization ``k`` has ``users_per_org`` members; neighbouring orgs share
  about one member in twelve (the last members of org ``k - 1`` are also the first of org ``k``).
  Orgs are assigned to enterprises round-robin; an enterprise's members are the union of its
  orgs' members, and a member of two orgs appears once in the enterprise reports.
- Each user has a profile: an archetype (``power``, ``regular``, ``occasional`` or ``idle`` --
  idle seat holders are never active), a seat start (adoption grows over the range), possibly a
  leave day (no activity afterwards, seat pending cancellation), IDEs, languages, a preferred
  chat model, and whether they use agent mode, the CLI, the Copilot app and code review.
- Whether a user is active on a day (and with which surfaces) is one cheap hash per user-day
  (:meth:`Dataset.day_facets`), so weekly and monthly active users are distinct counts over 7 and
  28 days without building full records. Weekends are quiet.
- Full user records follow the reference §3.5/§3.6 field names. Breakdown arrays are built from
  one list of activity cells (ide, feature, language, model), so ``totals_by_feature`` and
  ``totals_by_language_feature`` sum exactly to the top-level counters (and so do the IDE and
  model breakdowns).
- Aggregate records (``organization-1-day`` / ``enterprise-1-day``) are sums of that scope's user
  records for the day; active-user counts are distinct users over 1/7/28 days ending that day,
  counting only days inside the configured range (the simulated history starts at ``start_day``).

A user-day is active when any activity counter is above zero or any ``used_*`` flag is true
(DESIGN §3); the users reports contain exactly the active user-days.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from copilot_warehouse.config import ENTERPRISE, ORGANIZATION, Scope, day_range

if TYPE_CHECKING:
    from copilot_dev.simulator.messy import MessyPlan

# --- vocabulary ------------------------------------------------------------------------------
COUNTERS: tuple[str, ...] = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)
CODE_COUNTERS: tuple[str, ...] = COUNTERS[1:]
CHAT_MODE_COUNTERS: tuple[str, ...] = (
    "chat_panel_agent_mode",
    "chat_panel_ask_mode",
    "chat_panel_custom_mode",
    "chat_panel_edit_mode",
    "chat_panel_plan_mode",
    "chat_panel_unknown_mode",
)
FEATURES: tuple[str, ...] = (
    "code_completion",
    "chat_panel_ask_mode",
    "chat_panel_agent_mode",
    "chat_panel_edit_mode",
    "agent_edit",
    "chat_inline",
)
USED_FLAGS: tuple[str, ...] = (
    "used_chat",
    "used_agent",
    "used_cli",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_copilot_cloud_agent",
    "used_copilot_coding_agent",
    "used_copilot_app",
)
IDES: tuple[tuple[str, float], ...] = (
    ("vscode", 0.58),
    ("JetBrains", 0.2),
    ("visualstudio", 0.11),
    ("neovim", 0.07),
    ("xcode", 0.04),
)
IDE_VERSIONS = {
    "vscode": ("1.105.1", "copilot-chat", "0.33.2"),
    "JetBrains": ("2025.2.4", "copilot-intellij", "1.5.61"),
    "visualstudio": ("17.14.19", "copilot-vs", "17.14.1091"),
    "neovim": ("0.11.4", "copilot.vim", "1.56.0"),
    "xcode": ("26.1", "copilot-xcode", "0.44.0"),
}
LANGUAGES: tuple[str, ...] = (
    "python", "typescript", "javascript", "java", "go", "csharp", "kotlin", "swift", "rust",
    "sql", "ruby", "cpp", "markdown", "yaml",
)  # fmt: skip
CHAT_MODELS: tuple[str, ...] = (
    "claude-sonnet-4.5", "gpt-5", "gpt-4.1", "gemini-2.5-pro", "gpt-5-mini", "claude-opus-4.1",
)  # fmt: skip
COMPLETION_MODEL = "gpt-4.1-copilot"
TEAM_NAMES: tuple[str, ...] = (
    "platform", "payments", "mobile", "data", "web", "infra", "security", "ml", "growth", "search",
)  # fmt: skip
REPO_NAMES: tuple[str, ...] = (
    "api-gateway", "web-app", "payments-service", "mobile-ios", "mobile-android", "data-pipeline",
    "infra-terraform", "auth-service", "search-indexer", "design-system", "docs", "ml-models",
    "billing", "notifications", "cli-tools",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = (
    "alice", "bob", "carla", "dmitri", "emma", "farid", "grace", "hiro", "ines", "jonas", "kemi",
    "liam", "maria", "nikhil", "olga", "pedro", "quinn", "rosa", "sven", "tara", "umar", "vera",
    "wei", "ximena", "yusuf", "zoe",
)  # fmt: skip
ARCHETYPES: tuple[tuple[str, float], ...] = (
    ("power", 0.16),
    ("regular", 0.4),
    ("occasional", 0.35),
    ("idle", 0.09),
)
_P_ACTIVE = {"power": 0.93, "regular": 0.72, "occasional": 0.27, "idle": 0.0}
_WEEKEND = {"power": 0.18, "regular": 0.06, "occasional": 0.03, "idle": 0.0}
_INTENSITY = {"power": 3.0, "regular": 1.4, "occasional": 0.6, "idle": 0.0}
_PR_FIELDS: tuple[str, ...] = (
    "total_created",
    "total_reviewed",
    "total_merged",
    "total_suggestions",
    "total_applied_suggestions",
    "total_created_by_copilot",
    "total_reviewed_by_copilot",
    "total_merged_created_by_copilot",
    "total_merged_reviewed_by_copilot",
    "total_copilot_suggestions",
    "total_copilot_applied_suggestions",
)
# The median minutes to merge a record gives (null on a day without the matching merges).
_PR_MEDIANS: tuple[str, ...] = (
    "median_minutes_to_merge",
    "median_minutes_to_merge_copilot_authored",
    "median_minutes_to_merge_copilot_reviewed",
)
_COMMENT_TYPES: tuple[str, ...] = ("bug", "performance", "readability", "security", "style")


@dataclass(frozen=True)
class SimulatorConfig:
    """What the simulator serves. Every field has a default that makes a small, quick dataset.

    Attributes:
        seed: Seed of every generated value.
        orgs: Organization slugs.
        enterprises: Enterprise slugs; orgs are assigned to them round-robin.
        users_per_org: Members per organization (neighbouring orgs share about 1 in 12).
        start_day: First day with reports (days before answer 204).
        end_day: Last day with reports; the ``*-28-day/latest`` reports end here and the seat
            snapshot is taken on this day.
        token: The token the API routes accept (``Authorization: Bearer <token>``).
        parts: Number of NDJSON part files a multi-line report is split into.
        link_ttl_seconds: Lifetime of a signed download link.
        legacy_start: First day the legacy ``/copilot/metrics`` API answers (None: always 404).
        legacy_end: Last day the legacy API answers.
        forbidden_scopes: Org or enterprise slugs whose metrics calls (every
            ``/copilot/metrics/reports/...`` call and the legacy ``/copilot/metrics``) answer 403, as
            GitHub does when the "Copilot usage metrics" policy is off or the token lacks the
            permission. Billing and seats still answer 200.
        metrics_disabled_scopes: Slugs whose metrics calls answer 422 "Copilot Usage Metrics API
            setting is disabled at the organization or enterprise level".
        unavailable_reports: Slug -> report names answering 404 for that scope (a report not
            offered for its plan or region) while the others work. Give a dict or pairs; it is
            stored as a sorted tuple of ``(slug, (report, ...))`` pairs so the config stays hashable.
        messy: Serve the odd-but-real shapes of real GitHub data, drawn reproducibly from the
            seed (restated days, renamed logins, odd seat rows, offset timestamps, inconsistent
            active counts, a missing report, empty 200 answers, late aggregates): see
            :mod:`copilot_dev.simulator.messy`. False serves exactly the clean data.

    Raises:
        ValueError: a reversed day range, fewer than one user or part, half a legacy range, a slug
            that is not a valid GitHub name, a policy slug that is not a configured scope, or an
            unknown report name in ``unavailable_reports``.
    """

    seed: int = 42
    orgs: tuple[str, ...] = ("octo-demo", "acme-labs")
    enterprises: tuple[str, ...] = ("octo-enterprise",)
    users_per_org: int = 40
    start_day: date = date(2026, 10, 5)
    end_day: date = date(2026, 11, 22)
    token: str = "sim-token"  # noqa: S105 - the simulator's well-known default
    parts: int = 2
    link_ttl_seconds: int = 300
    legacy_start: date | None = None
    legacy_end: date | None = None
    forbidden_scopes: tuple[str, ...] = ()
    metrics_disabled_scopes: tuple[str, ...] = ()
    unavailable_reports: tuple[tuple[str, tuple[str, ...]], ...] = ()
    messy: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "orgs", tuple(self.orgs))
        object.__setattr__(self, "enterprises", tuple(self.enterprises))
        for name in ("forbidden_scopes", "metrics_disabled_scopes"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        object.__setattr__(self, "unavailable_reports", _normalise_unavailable(self.unavailable_reports))
        object.__setattr__(self, "messy", bool(self.messy))
        for name in self.orgs:
            Scope(ORGANIZATION, name)
        for name in self.enterprises:
            Scope(ENTERPRISE, name)
        if self.end_day < self.start_day:
            raise ValueError(f"end_day {self.end_day} is before start_day {self.start_day}")
        if self.users_per_org < 1 or self.parts < 1:
            raise ValueError("users_per_org and parts must be at least 1")
        if (self.legacy_start is None) != (self.legacy_end is None):
            raise ValueError("give both legacy_start and legacy_end, or neither")
        if self.legacy_start and self.legacy_end and self.legacy_end < self.legacy_start:
            raise ValueError(f"legacy_end {self.legacy_end} is before legacy_start {self.legacy_start}")
        scopes = set(self.orgs) | set(self.enterprises)
        for field_name in ("forbidden_scopes", "metrics_disabled_scopes"):
            for slug in getattr(self, field_name):
                if slug not in scopes:
                    raise ValueError(f"{field_name}: {slug!r} is not a configured organization or enterprise")
        for slug, reports in self.unavailable_reports:
            if slug not in scopes:
                raise ValueError(
                    f"unavailable_reports: {slug!r} is not a configured organization or enterprise"
                )
            known = {
                r
                for kind, names in ((ORGANIZATION, self.orgs), (ENTERPRISE, self.enterprises))
                if slug in names
                for r in (*DAILY_REPORTS_SERVED[kind], *LATEST_REPORTS_SERVED[kind])
            }
            for report in reports:
                if report not in known:
                    raise ValueError(
                        f"unavailable_reports: {slug!r} has no report {report!r}; choose from {sorted(known)}"
                    )

    def unavailable_for(self, slug: str) -> tuple[str, ...]:
        """The configured report names that answer 404 for ``slug`` (empty when none)."""
        return dict(self.unavailable_reports).get(slug, ())


def _normalise_unavailable(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{slug: reports}`` or ``[(slug, reports), ...]`` -> sorted ``((slug, (report, ...)), ...)``.

    A report may be given as one string; reports of one slug given twice are merged.
    """
    items = value.items() if isinstance(value, dict) else value
    merged: dict[str, set[str]] = {}
    try:
        for slug, reports in items:  # type: ignore[union-attr]
            names = (reports,) if isinstance(reports, str) else tuple(reports)
            merged.setdefault(str(slug), set()).update(str(r) for r in names)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"unavailable_reports must map slugs to report names, got {value!r}") from exc
    return tuple((slug, tuple(sorted(reports))) for slug, reports in sorted(merged.items()) if reports)


def _digest(*parts: object, size: int = 8) -> bytes:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=size).digest()


def stable_int(*parts: object) -> int:
    """A 64-bit integer derived from ``parts`` (same in every process)."""
    return int.from_bytes(_digest(*parts), "big")


def _uniform(*parts: object) -> float:
    return stable_int(*parts) / 2**64


def _rng(*parts: object) -> random.Random:
    return random.Random(stable_int(*parts))  # noqa: S311 - simulated data, not security


def _pick_weighted(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


class DayFacets(NamedTuple):
    """Which surfaces an active user used on a day (all False never happens: that is inactive)."""

    completion: bool
    chat: bool
    agent: bool
    cli: bool
    review_active: bool
    review_passive: bool
    cloud_agent: bool
    app: bool


@dataclass(frozen=True)
class UserProfile:
    """The stable traits of one simulated user."""

    index: int
    user_id: int
    login: str
    archetype: str
    seat_start: date
    left_day: date | None
    ides: tuple[str, ...]
    languages: tuple[str, ...]
    chat_model: str
    accept_rate: float
    chat_affinity: float
    agent_affinity: float
    cli_user: bool
    app_user: bool
    reviewer: bool

    def member_on(self, day: date) -> bool:
        """True while the user holds a seat and has not left."""
        return self.seat_start <= day and (self.left_day is None or day < self.left_day)


@dataclass
class _OrgInfo:
    name: str
    index: int
    org_id: int
    members: tuple[int, ...]
    enterprise: str | None
    teams: tuple[tuple[int, str], ...]  # (team_id, slug)
    repos: tuple[tuple[int, str], ...]  # (repository_id, full name)


@dataclass
class _DayState:
    facets: dict[int, DayFacets] = field(default_factory=dict)


def _scope(scope: Scope | tuple[str, str]) -> Scope:
    return scope if isinstance(scope, Scope) else Scope(*scope)


def _iso_ts(day: date, seconds: int) -> str:
    return (datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def _sum_by(cells: Iterable[dict[str, Any]], keys: tuple[str, ...], counters: tuple[str, ...]) -> list[dict]:
    """Group ``cells`` by ``keys`` and sum ``counters``; sorted by key for stable output."""
    out: dict[tuple, dict[str, Any]] = {}
    for cell in cells:
        k = tuple(cell[key] for key in keys)
        row = out.get(k)
        if row is None:
            row = {key: cell[key] for key in keys}
            row.update(dict.fromkeys(counters, 0))
            out[k] = row
        for c in counters:
            row[c] += cell.get(c, 0)
    return [out[k] for k in sorted(out)]


def _token_usage(requests: int, rng: random.Random) -> dict[str, Any]:
    prompt = requests * rng.randint(1500, 4200)
    output = requests * rng.randint(150, 600)
    return {
        "output_tokens_sum": output,
        "prompt_tokens_sum": prompt,
        "avg_tokens_per_request": round((prompt + output) / requests, 1) if requests else 0.0,
    }


def _sum_sessions(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Sum CLI / app usage objects; the per-request average is recomputed, not summed."""
    if not items:
        return None
    out = {k: sum(i[k] for i in items) for k in ("session_count", "request_count", "prompt_count")}
    prompt = sum(i["token_usage"]["prompt_tokens_sum"] for i in items)
    output = sum(i["token_usage"]["output_tokens_sum"] for i in items)
    req = out["request_count"]
    out["token_usage"] = {
        "output_tokens_sum": output,
        "prompt_tokens_sum": prompt,
        "avg_tokens_per_request": round((prompt + output) / req, 1) if req else 0.0,
    }
    return out


class Dataset:
    """Deterministic records for every report the simulator serves.

    Args:
        config: The simulator configuration (seed, scopes, users, day range, legacy range).

    Days outside ``start_day..end_day`` have no report: :meth:`aggregate` returns None and the
    list-returning methods return ``[]`` (the server answers 204). Unknown scopes raise KeyError.

    With ``config.messy`` the records carry the drawn oddities (:mod:`~copilot_dev.simulator.
    messy`): the methods return what the server serves as *final* data (version 2 of a restated
    day; ``version=1`` gives the first-served version), so tests still compute expectations here.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        c = self.config
        self._seed = c.seed
        self._range_days = max(1, (c.end_day - c.start_day).days)
        self._day_state = lru_cache(maxsize=512)(self._compute_day_state)
        self._day_records = lru_cache(maxsize=48)(self._compute_day_records)
        self._members_cache: dict[Scope, tuple[int, ...]] = {}

    # --- messy mode ------------------------------------------------------------------------
    @cached_property
    def messy_plan(self) -> MessyPlan | None:
        """Every oddity drawn for this configuration, or None when ``config.messy`` is off."""
        if not self.config.messy:
            return None
        from copilot_dev.simulator.messy import draw_plan

        return draw_plan(self)

    def messy_manifest(self) -> dict[str, Any]:
        """A JSON-ready description of every oddity served (format:
        :mod:`copilot_dev.simulator.messy`), including the configured 403/422/404 knobs.
        With ``messy`` off only the configured knobs are listed."""
        from copilot_dev.simulator.messy import build_manifest

        return build_manifest(self)

    def unavailable_reports(self) -> frozenset[tuple[str, str]]:
        """(slug, report) pairs that answer 404: the configured ones plus the drawn one (messy)."""
        pairs = {(slug, r) for slug, reports in self.config.unavailable_reports for r in reports}
        if self.messy_plan is not None:
            pairs.update(self.messy_plan.unavailable)
        return frozenset(pairs)

    def login_on(self, index: int, day: date) -> str:
        """The login of the user at ``index`` on ``day`` (a renamed login from its day on)."""
        plan = self.messy_plan
        if plan is not None and (rename := plan.renames.get(index)) is not None and day >= rename[0]:
            return rename[1]
        return self.profiles[index].login

    def is_restated(self, scope: Scope | tuple[str, str], report: str, day: date | None) -> bool:
        """True when ``report`` of ``scope`` on ``day`` has a first version that differs from the final."""
        plan = self.messy_plan
        if plan is None or day is None:
            return False
        s = _scope(scope)
        return (s, day) in plan.restated and report in (f"{s.type}-1-day", "users-1-day")

    def empty_answer(self, scope: Scope | tuple[str, str], report: str, day: date | None) -> bytes | None:
        """The body of an empty 200 served instead of a 204 for a report with no data, or None (204).

        Only in messy mode: ``b'""'``, ``b"null"`` or ``b""`` for the drawn late aggregates and for
        some days just outside the range.
        """
        plan = self.messy_plan
        if plan is None or day is None:
            return None
        s = _scope(scope)
        if (s.name, report) in self.unavailable_reports():
            return None
        if report == f"{s.type}-1-day" and (s, day) in plan.late_aggregates:
            return plan.late_aggregates[(s, day)]
        from copilot_dev.simulator.messy import outside_empty_body

        return outside_empty_body(self, s, report, day)

    def _aggregate_is_late(self, scope: Scope, day: date) -> bool:
        plan = self.messy_plan
        return plan is not None and (scope, day) in plan.late_aggregates

    def clean_weekly_active_users(self, scope: Scope | tuple[str, str], day: date) -> int:
        """Distinct users active in the 7 days ending ``day`` (before any messy inconsistency)."""
        return self._distinct(_scope(scope), day, 7)

    # --- structure -------------------------------------------------------------------------
    @cached_property
    def _org_infos(self) -> dict[str, _OrgInfo]:
        c = self.config
        n = c.users_per_org
        shared = max(1, n // 12) if n >= 4 else 0
        infos: dict[str, _OrgInfo] = {}
        for k, name in enumerate(c.orgs):
            first = k * (n - shared)
            ent = c.enterprises[k % len(c.enterprises)] if c.enterprises else None
            rng = _rng(self._seed, "org", name)
            n_teams = max(2, min(len(TEAM_NAMES), 2 + n // 7))
            slugs = rng.sample(TEAM_NAMES, n_teams)
            teams = tuple((100000 + stable_int(self._seed, "team", name, s) % 9_000_000, s) for s in slugs)
            n_repos = max(3, min(len(REPO_NAMES), 3 + n // 5))
            repos = tuple(
                (200_000_000 + stable_int(self._seed, "repo", name, r) % 700_000_000, f"{name}/{r}")
                for r in rng.sample(REPO_NAMES, n_repos)
            )
            infos[name] = _OrgInfo(
                name=name,
                index=k,
                org_id=1_000_000 + stable_int(self._seed, "org-id", name) % 90_000_000,
                members=tuple(range(first, first + n)),
                enterprise=ent,
                teams=teams,
                repos=repos,
            )
        return infos

    @cached_property
    def universe_size(self) -> int:
        """Number of distinct users across all orgs."""
        return max((max(o.members) + 1 for o in self._org_infos.values()), default=0)

    @cached_property
    def profiles(self) -> tuple[UserProfile, ...]:
        """Every user's profile, indexed by user index."""
        return tuple(self._make_profile(i) for i in range(self.universe_size))

    def _make_profile(self, i: int) -> UserProfile:
        c = self.config
        rng = _rng(self._seed, "user", i)
        archetype = _pick_weighted(rng, ARCHETYPES)
        # Adoption grows: about half the seats predate the range, the rest arrive during it.
        if rng.random() < 0.5:
            seat_start = c.start_day - timedelta(days=rng.randint(1, 240))
        else:
            seat_start = c.start_day + timedelta(days=int(self._range_days * rng.random() ** 0.8))
        left_day = None
        if rng.random() < 0.08 and (c.end_day - seat_start).days > 10:
            window = min(30, (c.end_day - seat_start).days - 5)
            left_day = c.end_day - timedelta(days=rng.randint(1, max(1, window)))
        ide = _pick_weighted(rng, IDES)
        ides = (ide,)
        if rng.random() < 0.2:
            other = _pick_weighted(rng, [x for x in IDES if x[0] != ide])
            ides = (ide, other)
        languages = tuple(rng.sample(LANGUAGES, rng.choice((1, 2, 2, 3, 3, 4))))
        name = FIRST_NAMES[i % len(FIRST_NAMES)]
        return UserProfile(
            index=i,
            user_id=5_000_000 + i * 37 + stable_int(self._seed, "uid", i) % 37,
            login=f"{name}-{rng.choice(('dev', 'eng', 'gh', 'code', 'hub'))}{i}",
            archetype=archetype,
            seat_start=seat_start,
            left_day=left_day,
            ides=ides,
            languages=languages,
            chat_model=rng.choice(CHAT_MODELS),
            accept_rate=rng.uniform(0.18, 0.42),
            chat_affinity={"power": 0.85, "regular": 0.55, "occasional": 0.3, "idle": 0}[archetype]
            * rng.uniform(0.6, 1.1),
            agent_affinity=(
                rng.uniform(0.2, 0.8) if archetype in ("power", "regular") and rng.random() < 0.6 else 0.0
            ),
            cli_user=rng.random() < 0.2,
            app_user=rng.random() < 0.2,  # about 1 in 5: the desktop app panels have data
            reviewer=rng.random() < 0.45,
        )

    def org_names(self) -> tuple[str, ...]:
        """Configured organization slugs."""
        return self.config.orgs

    def enterprise_orgs(self, enterprise: str) -> tuple[str, ...]:
        """The orgs that belong to ``enterprise``."""
        if enterprise not in self.config.enterprises:
            raise KeyError(enterprise)
        return tuple(o.name for o in self._org_infos.values() if o.enterprise == enterprise)

    def has_scope(self, scope: Scope | tuple[str, str]) -> bool:
        """True when the scope is configured."""
        s = _scope(scope)
        names = self.config.orgs if s.type == ORGANIZATION else self.config.enterprises
        return s.name in names

    def scope_id(self, scope: Scope | tuple[str, str]) -> str:
        """The numeric organization_id / enterprise_id (as a string, like GitHub's files)."""
        s = _scope(scope)
        if s.type == ORGANIZATION:
            return str(self._org_infos[s.name].org_id)
        if s.name not in self.config.enterprises:
            raise KeyError(s.name)
        return str(10_000 + stable_int(self._seed, "ent-id", s.name) % 90_000)

    def members(self, scope: Scope | tuple[str, str]) -> tuple[int, ...]:
        """User indices of the scope's members (sorted, each once)."""
        s = _scope(scope)
        cached = self._members_cache.get(s)
        if cached is not None:
            return cached
        if s.type == ORGANIZATION:
            if s.name not in self._org_infos:
                raise KeyError(s.name)
            result = self._org_infos[s.name].members
        else:
            idx: set[int] = set()
            for org in self.enterprise_orgs(s.name):
                idx.update(self._org_infos[org].members)
            result = tuple(sorted(idx))
        self._members_cache[s] = result
        return result

    def user_orgs(self, index: int) -> tuple[str, ...]:
        """Orgs the user at ``index`` belongs to (two for the shared members)."""
        return tuple(o.name for o in self._org_infos.values() if index in o.members)

    def in_range(self, day: date) -> bool:
        """True when ``day`` has reports."""
        return self.config.start_day <= day <= self.config.end_day

    # --- activity ----------------------------------------------------------------------------
    def _compute_day_state(self, day: date) -> _DayState:
        state = _DayState()
        c = self.config
        weekend = day.weekday() >= 5
        progress = min(1.0, max(0.0, (day - c.start_day).days / self._range_days))
        trend = 0.75 + 0.25 * progress
        dkey = day.isoformat()
        for p in self.profiles:
            if p.archetype == "idle" or not p.member_on(day):
                continue
            base = _WEEKEND[p.archetype] if weekend else _P_ACTIVE[p.archetype]
            tenure = (day - p.seat_start).days
            ramp = min(1.0, 0.3 + 0.7 * tenure / 21)
            d = _digest(self._seed, "act", p.index, dkey, size=12)
            u = int.from_bytes(d[:4], "big") / 2**32
            if u >= base * ramp * trend:
                continue
            b = d[4:]
            if b[0] < 15:  # code-review-only day: no IDE activity, still an active user
                facets = DayFacets(False, False, False, False, b[1] < 128, True, False, False)
            else:
                facets = DayFacets(
                    completion=b[1] < 235,
                    chat=b[2] / 256 < p.chat_affinity,
                    agent=b[3] / 256 < p.agent_affinity,
                    cli=p.cli_user and b[4] < 140,
                    review_active=p.reviewer and b[5] < 70,
                    review_passive=p.reviewer and b[6] < 90,
                    cloud_agent=p.agent_affinity > 0 and b[7] < 18,
                    app=p.app_user and b[7] >= 150,
                )
                if not any(facets):
                    facets = facets._replace(completion=True)
            state.facets[p.index] = facets
        return state

    def day_facets(self, day: date) -> dict[int, DayFacets]:
        """Active user index -> facets for ``day`` (over the whole universe; cached)."""
        return self._day_state(day).facets

    def is_active(self, index: int, day: date) -> bool:
        """True when the user at ``index`` was active on ``day`` (any counter or used_* flag)."""
        return index in self.day_facets(day)

    def active_users(self, scope: Scope | tuple[str, str], day: date) -> list[int]:
        """Indices of the scope's members active on ``day`` (empty outside the range)."""
        if not self.in_range(day):
            return []
        facets = self.day_facets(day)
        return [i for i in self.members(scope) if i in facets]

    def _distinct(self, scope: Scope, day: date, days: int, facet: str | None = None) -> int:
        members = set(self.members(scope))
        seen: set[int] = set()
        first = max(self.config.start_day, day - timedelta(days=days - 1))
        d = first
        while d <= day:
            for i, f in self.day_facets(d).items():
                if i in members and (facet is None or getattr(f, facet)):
                    seen.add(i)
            d += timedelta(days=1)
        return len(seen)

    # --- user records ------------------------------------------------------------------------
    def _compute_day_records(self, day: date) -> dict[int, dict[str, Any]]:
        bodies = {i: self._user_body(self.profiles[i], day, f) for i, f in self.day_facets(day).items()}
        return self._with_day_offsets(day, bodies)

    def _with_day_offsets(self, day: date, bodies: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        plan = self.messy_plan
        if plan is not None and (offset := plan.offset_days.get(day)) is not None:
            from copilot_dev.simulator.messy import offset_body

            for body in bodies.values():
                offset_body(body, offset)
        return bodies

    def _user_body(self, p: UserProfile, day: date, f: DayFacets, salt: str = "") -> dict[str, Any]:
        """The scope-independent part of a user-day record (counters, flags, breakdowns).

        ``salt`` draws different counters for the same activity (a restated day's first version).
        """
        parts = ("rec", salt) if salt else ("rec",)
        rng = _rng(self._seed, *parts, p.index, day.isoformat())
        weekend = day.weekday() >= 5
        k = max(0.3, _INTENSITY[p.archetype]) * (0.4 if weekend else 1.0)
        cells: list[dict[str, Any]] = []

        def ide() -> str:
            return p.ides[0] if len(p.ides) == 1 or rng.random() < 0.75 else p.ides[1]

        def lang() -> str:
            return p.languages[0] if rng.random() < 0.6 else rng.choice(p.languages)

        def cell(feature: str, model: str, **counts: int) -> None:
            c = dict.fromkeys(COUNTERS, 0)
            c.update(counts)
            c.update(ide=ide(), feature=feature, language=lang(), model=model)
            cells.append(c)

        if f.completion:
            for _ in range(rng.choice((1, 1, 2, 3))):
                gens = max(1, int(rng.gammavariate(2.0, 9.0 * k)))
                acc = sum(rng.random() < p.accept_rate for _ in range(min(gens, 400)))
                suggested = gens * rng.randint(2, 6)
                cell(
                    "code_completion",
                    COMPLETION_MODEL,
                    code_generation_activity_count=gens,
                    code_acceptance_activity_count=acc,
                    loc_suggested_to_add_sum=suggested,
                    # completions accept at most the lines they suggested
                    loc_added_sum=min(acc * rng.randint(1, 5), suggested),
                )
        if f.chat:
            asks = max(1, int(rng.gammavariate(1.5, 3.0 * k)))
            gens = asks + rng.randint(0, asks)
            acc = int(gens * rng.uniform(0.1, 0.5))
            cell(
                "chat_panel_ask_mode",
                p.chat_model,
                user_initiated_interaction_count=asks,
                code_generation_activity_count=gens,
                code_acceptance_activity_count=acc,
                loc_suggested_to_add_sum=gens * rng.randint(3, 15),
                loc_added_sum=acc * rng.randint(2, 10),
            )
            if rng.random() < 0.35:
                n = rng.randint(1, 6)
                acc = rng.randint(0, n)
                cell(
                    "chat_inline",
                    p.chat_model,
                    user_initiated_interaction_count=n,
                    code_generation_activity_count=n,
                    code_acceptance_activity_count=acc,
                    loc_suggested_to_add_sum=n * rng.randint(2, 12),
                    loc_suggested_to_delete_sum=n * rng.randint(0, 4),
                    loc_added_sum=acc * rng.randint(2, 10),
                    loc_deleted_sum=acc * rng.randint(0, 3),
                )
            if rng.random() < 0.25:
                n = rng.randint(1, 5)
                acc = rng.randint(0, n)
                cell(
                    "chat_panel_edit_mode",
                    p.chat_model,
                    user_initiated_interaction_count=n,
                    code_generation_activity_count=n + rng.randint(0, 3),
                    code_acceptance_activity_count=acc,
                    loc_suggested_to_add_sum=n * rng.randint(5, 30),
                    loc_suggested_to_delete_sum=n * rng.randint(0, 10),
                    loc_added_sum=acc * rng.randint(4, 25),
                    loc_deleted_sum=acc * rng.randint(0, 8),
                )
        if f.agent:
            n = max(1, int(rng.gammavariate(1.5, 2.5 * k)))
            gens = n + rng.randint(0, 2 * n)
            cell(
                "chat_panel_agent_mode",
                p.chat_model,
                user_initiated_interaction_count=n,
                code_generation_activity_count=gens,
                code_acceptance_activity_count=int(gens * rng.uniform(0.2, 0.6)),
                loc_suggested_to_add_sum=gens * rng.randint(4, 20),
            )
            # Agent edits apply code directly: no suggestion-style counts (reference §3.5).
            cell(
                "agent_edit",
                p.chat_model,
                loc_added_sum=n * rng.randint(10, 80),
                loc_deleted_sum=n * rng.randint(2, 30),
            )

        top = {c: sum(x[c] for x in cells) for c in COUNTERS}
        modes = dict.fromkeys(CHAT_MODE_COUNTERS, 0)
        for x in cells:
            if x["feature"] in modes:
                modes[x["feature"]] += x["user_initiated_interaction_count"]
        secs = rng.randint(8 * 3600, 18 * 3600)
        by_ide = _sum_by(cells, ("ide",), COUNTERS)
        for row in by_ide:
            ide_version, plugin, plugin_version = IDE_VERSIONS[row["ide"]]
            row["last_known_ide_version"] = {"ide_version": ide_version, "sampled_at": _iso_ts(day, secs)}
            row["last_known_plugin_version"] = {
                "plugin": plugin,
                "plugin_version": plugin_version,
                "sampled_at": _iso_ts(day, secs),
            }
        body: dict[str, Any] = {**top, **modes}
        body.update(
            used_chat=any(
                x["feature"] in ("chat_panel_ask_mode", "chat_panel_edit_mode", "chat_inline") for x in cells
            ),
            used_agent=f.agent,
            used_cli=f.cli,
            used_copilot_code_review_active=f.review_active,
            used_copilot_code_review_passive=f.review_passive,
            used_copilot_cloud_agent=f.cloud_agent,
            used_copilot_coding_agent=f.cloud_agent,
            used_copilot_app=f.app,
        )
        credits = 0.25 * (
            top["user_initiated_interaction_count"]
            + 3 * modes["chat_panel_agent_mode"]
            + 4 * f.cloud_agent
            + 2 * f.review_active
            + f.review_passive
        )
        cli = None
        if f.cli:
            sessions = rng.randint(1, 4)
            requests = sessions * rng.randint(3, 25)
            cli = {
                "session_count": sessions,
                "request_count": requests,
                "prompt_count": max(sessions, requests // rng.randint(2, 5)),
                "token_usage": _token_usage(requests, rng),
                "last_known_cli_version": {"cli_version": "0.0.354", "sampled_at": _iso_ts(day, secs)},
            }
            credits += 0.25 * requests
        app = None
        if f.app:
            sessions = rng.randint(1, 3)
            requests = sessions * rng.randint(2, 12)
            app = {
                "session_count": sessions,
                "request_count": requests,
                "prompt_count": max(sessions, requests // 3),
                "token_usage": _token_usage(requests, rng),
            }
            credits += 0.25 * requests
        body["ai_credits_used"] = credits
        tenure = (day - p.seat_start).days
        phase = 1 if tenure < 30 or p.archetype == "occasional" else (3 if p.archetype == "power" else 2)
        body["ai_adoption_phase"] = {"phase": f"Phase {phase}", "phase_number": phase, "version": "v1"}
        body["totals_by_ide"] = by_ide
        body["totals_by_feature"] = _sum_by(cells, ("feature",), COUNTERS)
        body["totals_by_language_feature"] = _sum_by(cells, ("language", "feature"), CODE_COUNTERS)
        body["totals_by_language_model"] = _sum_by(cells, ("language", "model"), CODE_COUNTERS)
        body["totals_by_model_feature"] = _sum_by(cells, ("model", "feature"), COUNTERS)
        if cli is not None:
            body["totals_by_cli"] = cli
        if app is not None:
            body["totals_by_copilot_app"] = app
        return body

    def _user_record(self, scope: Scope, index: int, day: date, body: dict[str, Any]) -> dict[str, Any]:
        p = self.profiles[index]
        rec: dict[str, Any] = {
            "day": day.isoformat(),
            "user_id": p.user_id,
            "user_login": self.login_on(index, day),
        }
        if scope.type == ORGANIZATION:
            rec["organization_id"] = self.scope_id(scope)
            ent = self._org_infos[scope.name].enterprise
            if ent is not None:
                rec["enterprise_id"] = self.scope_id(Scope(ENTERPRISE, ent))
        else:
            rec["enterprise_id"] = self.scope_id(scope)
        rec.update(body)
        return rec

    def users(
        self, scope: Scope | tuple[str, str], day: date, version: int | None = None
    ) -> list[dict[str, Any]]:
        """The ``users-1-day`` records: one per active member, ordered by user index.

        ``version=1`` gives the first-served version of a restated day (messy mode; the same as
        the final version for any other day); None or 2 gives the final records.
        """
        s = _scope(scope)
        members = self.members(s)
        if not self.in_range(day):
            return []
        if version == 1 and self.is_restated(s, "users-1-day", day):
            return self._first_version_users(s, day)
        bodies = self._day_records(day)
        return [self._user_record(s, i, day, bodies[i]) for i in members if i in bodies]

    def _first_version_users(self, s: Scope, day: date) -> list[dict[str, Any]]:
        """A restated day as first published: about a quarter of the users missing (at least one),
        the others with different counters drawn for the same activity."""
        facets = self.day_facets(day)
        active = self.active_users(s, day)
        key = (s.type, s.name, day.isoformat())
        keep = [i for i in active if _uniform(self._seed, "restated-drop", *key, i) >= 0.25]
        if len(keep) == len(active):
            keep = keep[:-1]
        if not keep:
            keep = active[:1]
        bodies = {i: self._user_body(self.profiles[i], day, facets[i], salt="restated-v1") for i in keep}
        bodies = self._with_day_offsets(day, bodies)
        return [self._user_record(s, i, day, bodies[i]) for i in keep]

    def user_profile(self, user_id: int) -> UserProfile:
        """The profile of the user with GitHub id ``user_id``."""
        for p in self.profiles:
            if p.user_id == user_id:
                return p
        raise KeyError(user_id)

    # --- aggregates --------------------------------------------------------------------------
    def aggregate(
        self, scope: Scope | tuple[str, str], day: date, version: int | None = None
    ) -> dict[str, Any] | None:
        """The ``organization-1-day`` / ``enterprise-1-day`` record, or None when there is no report
        (outside the range, or a late aggregate in messy mode).

        ``version=1`` gives the first-served version of a restated day (the sums of
        ``users(scope, day, version=1)``); None or 2 the final one.
        """
        s = _scope(scope)
        self.members(s)  # KeyError for an unknown scope
        if not self.in_range(day) or self._aggregate_is_late(s, day):
            return None
        users = self.users(s, day, version=version)
        id_key = "organization_id" if s.type == ORGANIZATION else "enterprise_id"
        rec: dict[str, Any] = {"day": day.isoformat(), id_key: self.scope_id(s)}
        rec["daily_active_users"] = len(users)
        rec["weekly_active_users"] = self._distinct(s, day, 7)
        rec["monthly_active_users"] = self._distinct(s, day, 28)
        rec["monthly_active_chat_users"] = self._distinct(s, day, 28, "chat")
        rec["monthly_active_agent_users"] = self._distinct(s, day, 28, "agent")
        rec["daily_active_cli_users"] = sum(u["used_cli"] for u in users)
        rec["daily_active_copilot_app_users"] = sum(u["used_copilot_app"] for u in users)
        for facet, name in (
            ("cloud_agent", "active_copilot_cloud_agent_users"),
            ("review_active", "active_copilot_code_review_users"),
            ("review_passive", "passive_copilot_code_review_users"),
        ):
            rec[f"daily_{name}"] = self._distinct(s, day, 1, facet)
            rec[f"weekly_{name}"] = self._distinct(s, day, 7, facet)
            rec[f"monthly_{name}"] = self._distinct(s, day, 28, facet)
        for c in (*COUNTERS, *CHAT_MODE_COUNTERS):
            rec[c] = sum(u[c] for u in users)

        def flat(key: str) -> list[dict]:
            return [e for u in users for e in u[key]]

        rec["totals_by_ide"] = _sum_by(flat("totals_by_ide"), ("ide",), COUNTERS)
        rec["totals_by_feature"] = _sum_by(flat("totals_by_feature"), ("feature",), COUNTERS)
        rec["totals_by_language_feature"] = _sum_by(
            flat("totals_by_language_feature"), ("language", "feature"), CODE_COUNTERS
        )
        rec["totals_by_language_model"] = _sum_by(
            flat("totals_by_language_model"), ("language", "model"), CODE_COUNTERS
        )
        rec["totals_by_model_feature"] = _sum_by(
            flat("totals_by_model_feature"), ("model", "feature"), COUNTERS
        )
        cli = _sum_sessions([u["totals_by_cli"] for u in users if "totals_by_cli" in u])
        if cli is not None:
            rec["totals_by_cli"] = cli
        app = _sum_sessions([u["totals_by_copilot_app"] for u in users if "totals_by_copilot_app" in u])
        if app is not None:
            rec["totals_by_copilot_app"] = app
        rec["pull_requests"] = self._sum_pull_requests(self.repos(s, day))
        phases: dict[int, list[dict]] = {}
        for u in users:
            phases.setdefault(u["ai_adoption_phase"]["phase_number"], []).append(u)
        rec["totals_by_ai_adoption_phase"] = [
            {
                "phase": f"Phase {n}",
                "phase_number": n,
                "total_engaged_users": len(us),
                "avg_user_initiated_interactions": round(
                    sum(u["user_initiated_interaction_count"] for u in us) / len(us), 2
                ),
                "avg_code_generation_activities": round(
                    sum(u["code_generation_activity_count"] for u in us) / len(us), 2
                ),
                "avg_code_acceptance_activities": round(
                    sum(u["code_acceptance_activity_count"] for u in us) / len(us), 2
                ),
                "avg_loc_added": round(sum(u["loc_added_sum"] for u in us) / len(us), 2),
                "avg_loc_deleted": round(sum(u["loc_deleted_sum"] for u in us) / len(us), 2),
            }
            for n, us in sorted(phases.items())
        ]
        plan = self.messy_plan
        if plan is not None and (variant := plan.inconsistent.get((s, day))) is not None:
            delta = 1 + stable_int(self._seed, "messy-actives", s.type, s.name, day.isoformat()) % 3
            if variant == "weekly_gt_monthly":
                rec["weekly_active_users"] = rec["monthly_active_users"] + delta
            else:
                rec["weekly_active_users"] = max(0, rec["daily_active_users"] - delta)
        return rec

    @staticmethod
    def _sum_pull_requests(repos: list[dict[str, Any]]) -> dict[str, Any]:
        prs = [r["pull_requests"] for r in repos]
        out: dict[str, Any] = {k: sum(p[k] for p in prs) for k in _PR_FIELDS}
        # A median of medians: not additive, only indicative (documented in the architecture).
        for key in _PR_MEDIANS:
            medians = sorted(p[key] for p in prs if p.get(key) is not None)
            out[key] = medians[len(medians) // 2] if medians else None
        by_type = _sum_by(
            [e for p in prs for e in p["copilot_suggestions_by_comment_type"]],
            ("comment_type",),
            ("total_copilot_suggestions", "total_copilot_applied_suggestions"),
        )
        out["copilot_suggestions_by_comment_type"] = by_type
        return out

    # --- teams and repos ---------------------------------------------------------------------
    def _org_teams_of(self, org: _OrgInfo, index: int, day: date) -> list[tuple[int, str]]:
        rng = _rng(self._seed, "teams", org.name, index)
        teams = org.teams
        primary = rng.randrange(len(teams))
        chosen = [primary]
        if rng.random() < 0.15:
            second = rng.randrange(len(teams))
            if second != primary:
                chosen.append(second)
        if rng.random() < 0.07:  # moves team during the range
            move_day = self.config.start_day + timedelta(days=rng.randint(1, self._range_days))
            if day >= move_day:
                chosen[0] = (primary + 1 + rng.randrange(len(teams) - 1)) % len(teams)
        return [teams[t] for t in sorted(set(chosen))]

    def team_memberships(self, org: str, day: date) -> dict[tuple[int, str], list[int]]:
        """All teams of ``org`` on ``day`` with their member indices (before the >=5 rule)."""
        info = self._org_infos[org]
        teams: dict[tuple[int, str], list[int]] = {t: [] for t in info.teams}
        for i in info.members:
            if self.profiles[i].member_on(day):
                for t in self._org_teams_of(info, i, day):
                    teams[t].append(i)
        return teams

    def user_teams(self, scope: Scope | tuple[str, str], day: date) -> list[dict[str, Any]]:
        """The ``user-teams-1-day`` records: one row per (seated member, team) for teams with at
        least five seated members on that day (smaller teams are left out, as GitHub does)."""
        s = _scope(scope)
        self.members(s)
        if not self.in_range(day):
            return []
        orgs = (s.name,) if s.type == ORGANIZATION else self.enterprise_orgs(s.name)
        id_key = "organization_id" if s.type == ORGANIZATION else "enterprise_id"
        rows: list[dict[str, Any]] = []
        for org in orgs:
            for (team_id, slug), idx in self.team_memberships(org, day).items():
                if len(idx) < 5:
                    continue
                for i in idx:
                    p = self.profiles[i]
                    rows.append(
                        {
                            "user_id": p.user_id,
                            "user_login": self.login_on(i, day),
                            "day": day.isoformat(),
                            id_key: self.scope_id(s),
                            "team_id": team_id,
                            "slug": slug,
                        }
                    )
        rows.sort(key=lambda r: (r["user_id"], r["team_id"]))
        return rows

    def repos(self, scope: Scope | tuple[str, str], day: date) -> list[dict[str, Any]]:
        """The ``repos-1-day`` records: one per repository with Copilot PR activity that day.

        Shape (simulator's reading; GitHub documents no field list): ``day``,
        ``organization_id`` or ``enterprise_id``, ``repository_id`` (int),
        ``repository_name`` (``owner/name``), ``pull_requests`` (the aggregate's
        ``pull_requests`` fields for that repository).
        """
        s = _scope(scope)
        self.members(s)
        if not self.in_range(day):
            return []
        orgs = (s.name,) if s.type == ORGANIZATION else self.enterprise_orgs(s.name)
        id_key = "organization_id" if s.type == ORGANIZATION else "enterprise_id"
        weekend = day.weekday() >= 5
        out = []
        for org in orgs:
            for repo_id, full in self._org_infos[org].repos:
                rng = _rng(self._seed, "repo-day", repo_id, day.isoformat())
                if rng.random() > (0.15 if weekend else 0.75):
                    continue
                created = rng.randint(1, 9)
                reviewed = created + rng.randint(0, 4)
                merged = rng.randint(0, created)
                by_copilot = rng.randint(0, max(0, created // 3))
                reviewed_by_copilot = rng.randint(0, reviewed)
                suggestions = rng.randint(0, 3 * reviewed)
                by_type = []
                for ct in rng.sample(_COMMENT_TYPES, rng.randint(0, 3)):
                    n = rng.randint(1, 6)
                    by_type.append(
                        {
                            "comment_type": ct,
                            "total_copilot_suggestions": n,
                            "total_copilot_applied_suggestions": rng.randint(0, n),
                        }
                    )
                by_type.sort(key=lambda e: e["comment_type"])
                cop_sugg = sum(e["total_copilot_suggestions"] for e in by_type)
                record = {
                    "day": day.isoformat(),
                    id_key: self.scope_id(s),
                    "repository_id": repo_id,
                    "repository_name": full,
                    "pull_requests": {
                        "total_created": created,
                        "total_reviewed": reviewed,
                        "total_merged": merged,
                        "median_minutes_to_merge": round(rng.uniform(20, 900), 1) if merged else None,
                        "total_suggestions": suggestions,
                        "total_applied_suggestions": rng.randint(0, suggestions),
                        "total_created_by_copilot": by_copilot,
                        "total_reviewed_by_copilot": reviewed_by_copilot,
                        "total_merged_created_by_copilot": min(by_copilot, merged),
                        "total_merged_reviewed_by_copilot": min(reviewed_by_copilot, merged),
                        "total_copilot_suggestions": cop_sugg,
                        "total_copilot_applied_suggestions": sum(
                            e["total_copilot_applied_suggestions"] for e in by_type
                        ),
                        "copilot_suggestions_by_comment_type": by_type,
                    },
                }
                # drawn after every other figure, so adding them left the earlier figures unchanged
                pr = record["pull_requests"]
                for key, merged_key in (
                    ("median_minutes_to_merge_copilot_authored", "total_merged_created_by_copilot"),
                    ("median_minutes_to_merge_copilot_reviewed", "total_merged_reviewed_by_copilot"),
                ):
                    minutes = round(rng.uniform(10, 900), 1)
                    pr[key] = minutes if pr[merged_key] else None
                out.append(record)
        return out

    # --- 28-day reports ----------------------------------------------------------------------
    def window_28_day(self) -> tuple[date, date]:
        """(report_start_day, report_end_day) of the ``*-28-day/latest`` reports."""
        end = self.config.end_day
        return end - timedelta(days=27), end

    def aggregate_28_day(self, scope: Scope | tuple[str, str]) -> dict[str, Any]:
        """The ``organization-28-day`` / ``enterprise-28-day`` object: ``day_totals`` holds the
        1-day aggregate of every day of the window that is inside the configured range."""
        s = _scope(scope)
        start, end = self.window_28_day()
        id_key = "organization_id" if s.type == ORGANIZATION else "enterprise_id"
        totals = [a for d in day_range(start, end) if (a := self.aggregate(s, d)) is not None]
        return {
            "report_start_day": start.isoformat(),
            "report_end_day": end.isoformat(),
            id_key: self.scope_id(s),
            "created_at": _iso_ts(end + timedelta(days=2), 3 * 3600),
            "day_totals": totals,
        }

    def users_28_day(self, scope: Scope | tuple[str, str]) -> list[dict[str, Any]]:
        """The ``users-28-day`` lines: every user-day of the window, with the window's bounds."""
        start, end = self.window_28_day()
        extra = {"report_start_day": start.isoformat(), "report_end_day": end.isoformat()}
        return [{**u, **extra} for d in day_range(start, end) for u in self.users(scope, d)]

    # --- seats and billing -------------------------------------------------------------------
    def _last_active(self, index: int, until: date) -> date | None:
        d = min(until, self.config.end_day)
        floor = self.profiles[index].seat_start
        # Look back at most 90 days before the range: further back would walk (and cache) a year
        # of days per idle seat holder, and nothing served reaches that far.
        lower = max(min(floor, self.config.start_day), self.config.start_day - timedelta(days=90))
        lower -= timedelta(days=1)
        while d > lower:
            if index in self.day_facets(d):
                return d
            d -= timedelta(days=1)
        return None

    def _plan_type(self, org: str) -> str:
        return "enterprise" if self._org_infos[org].enterprise else "business"

    def _seat(self, org: str, index: int, with_org: bool) -> dict[str, Any]:
        p = self.profiles[index]
        login = self.login_on(index, self.config.end_day)
        info = self._org_infos[org]
        rng = _rng(self._seed, "seat", org, index)
        last = self._last_active(index, self.config.end_day)
        created = _iso_ts(p.seat_start, rng.randint(7 * 3600, 19 * 3600))
        team = None
        if rng.random() < 0.4:
            tid, slug = self._org_teams_of(info, index, p.seat_start)[0]
            team = {
                "id": tid,
                "node_id": f"T_{tid}",
                "name": slug.title(),
                "slug": slug,
                "url": f"https://api.github.com/orgs/{org}/teams/{slug}",
                "html_url": f"https://github.com/orgs/{org}/teams/{slug}",
                "privacy": "closed",
                "permission": "pull",
            }
        seat: dict[str, Any] = {
            "created_at": created,
            "updated_at": created,
            "pending_cancellation_date": None,
            "last_activity_at": None,
            "last_activity_editor": None,
            "last_authenticated_at": None,
            "plan_type": self._plan_type(org),
            "assignee": {
                "login": login,
                "id": p.user_id,
                "node_id": f"U_{p.user_id}",
                "avatar_url": f"https://avatars.githubusercontent.com/u/{p.user_id}?v=4",
                "url": f"https://api.github.com/users/{login}",
                "html_url": f"https://github.com/{login}",
                "type": "User",
                "site_admin": False,
            },
            "assigning_team": team,
            "organization": None,
        }
        if with_org:
            seat["organization"] = {
                "login": org,
                "id": info.org_id,
                "node_id": f"O_{info.org_id}",
                "url": f"https://api.github.com/orgs/{org}",
                "description": None,
            }
        if last is not None:
            ts = _iso_ts(last, rng.randint(8 * 3600, 20 * 3600))
            seat["last_activity_at"] = ts
            ide = p.ides[0]
            ide_version, plugin, plugin_version = IDE_VERSIONS[ide]
            seat["last_activity_editor"] = f"{ide}/{ide_version}/{plugin}/{plugin_version}"
            seat["last_authenticated_at"] = ts
        elif rng.random() < 0.5:
            seat["last_authenticated_at"] = _iso_ts(p.seat_start, 20 * 3600)
        if p.left_day is not None:
            seat["pending_cancellation_date"] = self._next_cycle().isoformat()
        if self.messy_plan is not None:
            self._offset_seat(org, index, seat)
        return seat

    def _offset_seat(self, org: str, index: int, seat: dict[str, Any]) -> None:
        """Messy mode: write about one seat in four's timestamps at non-UTC offsets (same instants)."""
        from copilot_dev.simulator.messy import (
            OFFSETS,
            SEAT_OFFSET_SHARE,
            SEAT_TIME_FIELDS,
            with_offset,
        )

        if _uniform(self._seed, "messy-seat-ts", org, index) >= SEAT_OFFSET_SHARE:
            return
        for k, group in enumerate(SEAT_TIME_FIELDS):
            offset = OFFSETS[stable_int(self._seed, "messy-seat-offset", org, index, k) % len(OFFSETS)]
            for name in group:
                if seat[name] is not None:
                    seat[name] = with_offset(seat[name], offset)

    @staticmethod
    def seat_offset_fields(seat: dict[str, Any]) -> dict[str, dict[str, str]] | None:
        """``{field: {"served": ts, "utc": ts_in_utc}}`` for the seat's timestamps written with a
        non-UTC offset, or None when all are UTC (``...Z``) or null."""
        out = {}
        for name in ("created_at", "updated_at", "last_activity_at", "last_authenticated_at"):
            value = seat.get(name)
            if value and not value.endswith("Z"):
                utc = datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                out[name] = {"served": value, "utc": utc}
        return out or None

    def _odd_seat(self, org: str, kind: str, with_org: bool) -> dict[str, Any]:
        """Messy mode: a seat row with ``assignee: null`` (``kind="null"``: a deleted account whose
        seat is pending cancellation) or a Team as assignee (``kind="team"``: the older schema)."""
        info = self._org_infos[org]
        rng = _rng(self._seed, "messy-odd-seat", org, kind)
        assignee: dict[str, Any] | None = None
        if kind == "null":
            created = _iso_ts(self.config.start_day - timedelta(days=rng.randint(30, 200)), 9 * 3600)
            pending: str | None = self._next_cycle().isoformat()
        else:
            tid, slug = info.teams[rng.randrange(len(info.teams))]
            created = _iso_ts(self.config.start_day - timedelta(days=rng.randint(400, 900)), 12 * 3600)
            pending = None
            assignee = {
                "id": tid,
                "node_id": f"T_{tid}",
                "url": f"https://api.github.com/teams/{tid}",
                "html_url": f"https://github.com/orgs/{org}/teams/{slug}",
                "name": slug.title(),
                "slug": slug,
                "description": None,
                "privacy": "closed",
                "permission": "pull",
                "members_url": f"https://api.github.com/teams/{tid}/members{{/member}}",
                "repositories_url": f"https://api.github.com/teams/{tid}/repos",
                "parent": None,
            }
        seat: dict[str, Any] = {
            "created_at": created,
            "updated_at": created,
            "pending_cancellation_date": pending,
            "last_activity_at": None,
            "last_activity_editor": None,
            "last_authenticated_at": None,
            "plan_type": self._plan_type(org),
            "assignee": assignee,
            "assigning_team": None,
            "organization": None,
        }
        if with_org:
            seat["organization"] = {
                "login": org,
                "id": info.org_id,
                "node_id": f"O_{info.org_id}",
                "url": f"https://api.github.com/orgs/{org}",
                "description": None,
            }
        return seat

    def _org_seats(self, org: str, with_org: bool) -> list[dict[str, Any]]:
        end = self.config.end_day
        rows = [
            self._seat(org, i, with_org)
            for i in self._org_infos[org].members
            if self.profiles[i].seat_start <= end
        ]
        plan = self.messy_plan
        if plan is not None:
            for kind, odd in (("null", plan.null_seat), ("team", plan.team_seat)):
                if odd is not None and odd[0] == org:
                    rows.insert(odd[1] % (len(rows) + 1), self._odd_seat(org, kind, with_org))
        return rows

    def _next_cycle(self) -> date:
        e = self.config.end_day
        return date(e.year + (e.month == 12), e.month % 12 + 1, 1)

    def seats(self, scope: Scope | tuple[str, str]) -> list[dict[str, Any]]:
        """Seat objects as of ``end_day`` (reference §4.2). Enterprise: one per granting org.

        In messy mode the listing also holds non-user rows (``assignee`` null or a Team); count
        billed seats with :meth:`total_seats`, not ``len()``.
        """
        s = _scope(scope)
        self.members(s)
        if s.type == ORGANIZATION:
            return self._org_seats(s.name, False)
        return [seat for org in self.enterprise_orgs(s.name) for seat in self._org_seats(org, True)]

    @staticmethod
    def is_user_seat(seat: dict[str, Any]) -> bool:
        """True when the seat's assignee is a user (not null, not a Team)."""
        a = seat.get("assignee")
        return a is not None and a.get("type") == "User"

    def total_seats(self, scope: Scope | tuple[str, str]) -> int:
        """GitHub's ``total_seats``: distinct users holding a seat (each once, whatever the rows)."""
        return len({seat["assignee"]["id"] for seat in self.seats(scope) if self.is_user_seat(seat)})

    def billing(self, scope: Scope | tuple[str, str]) -> dict[str, Any]:
        """``/copilot/billing`` (reference §4.1), consistent with :meth:`seats` (user seats only)."""
        s = _scope(scope)
        seats = self.seats(s)
        by_user: dict[int, dict] = {}
        for seat in seats:
            if self.is_user_seat(seat):
                by_user.setdefault(seat["assignee"]["id"], seat)
        cycle = datetime.combine(self.config.end_day.replace(day=1), datetime.min.time(), UTC)

        def at_or_after_cycle(ts: str | None) -> bool:
            return ts is not None and datetime.fromisoformat(ts) >= cycle

        active = sum(1 for x in by_user.values() if at_or_after_cycle(x["last_activity_at"]))
        plan = "enterprise" if s.type == ENTERPRISE else self._plan_type(s.name)
        return {
            "seat_breakdown": {
                "total": len(by_user),
                "added_this_cycle": sum(1 for x in by_user.values() if at_or_after_cycle(x["created_at"])),
                "pending_cancellation": sum(1 for x in by_user.values() if x["pending_cancellation_date"]),
                "pending_invitation": 0,
                "active_this_cycle": active,
                "inactive_this_cycle": len(by_user) - active,
            },
            "public_code_suggestions": "block",
            "ide_chat": "enabled",
            "platform_chat": "enabled",
            "cli": "enabled",
            "seat_management_setting": "assign_selected",
            "plan_type": plan,
        }

    # --- legacy API --------------------------------------------------------------------------
    def in_legacy_range(self, day: date) -> bool:
        """True when the legacy API has a day object for ``day``."""
        c = self.config
        return (
            c.legacy_start is not None and c.legacy_end is not None and c.legacy_start <= day <= c.legacy_end
        )

    def legacy_day(self, scope: Scope | tuple[str, str], day: date) -> dict[str, Any] | None:
        """A legacy ``/copilot/metrics`` day object (reference §2.6) from the same user model,
        or None outside the legacy range. Model names are ``default`` as GitHub's were."""
        s = _scope(scope)
        self.members(s)
        if not self.in_legacy_range(day):
            return None
        facets = self.day_facets(day)
        idx = [i for i in self.members(s) if i in facets]
        bodies = {i: self._user_body(self.profiles[i], day, facets[i]) for i in idx}
        engaged = [
            i
            for i in idx
            if bodies[i]["user_initiated_interaction_count"] or bodies[i]["code_acceptance_activity_count"]
        ]
        model = {"name": "default", "is_custom_model": False, "custom_model_training_date": None}

        completions: dict[str, dict[str, dict[str, Any]]] = {}
        comp_users_ed: dict[str, set[int]] = {}
        comp_users_lang: dict[str, set[int]] = {}
        chat: dict[str, dict[str, int]] = {}
        chat_users_ed: dict[str, set[int]] = {}
        for i in idx:
            b = bodies[i]
            for e in b["totals_by_language_feature"]:
                if e["feature"] != "code_completion":
                    continue
                # Editor for a language entry: the user's primary IDE (legacy had no finer split).
                ed = self.profiles[i].ides[0]
                langs = completions.setdefault(ed, {})
                row = langs.setdefault(
                    e["language"],
                    {
                        "name": e["language"],
                        "users": set(),
                        "total_code_suggestions": 0,
                        "total_code_acceptances": 0,
                        "total_code_lines_suggested": 0,
                        "total_code_lines_accepted": 0,
                    },
                )
                row["users"].add(i)
                row["total_code_suggestions"] += e["code_generation_activity_count"]
                row["total_code_acceptances"] += e["code_acceptance_activity_count"]
                row["total_code_lines_suggested"] += e["loc_suggested_to_add_sum"]
                row["total_code_lines_accepted"] += e["loc_added_sum"]
                comp_users_ed.setdefault(ed, set()).add(i)
                comp_users_lang.setdefault(e["language"], set()).add(i)
            for e in b["totals_by_ide"]:
                chats = e["user_initiated_interaction_count"]
                if chats:
                    row = chat.setdefault(
                        e["ide"],
                        {"total_chats": 0, "total_chat_insertion_events": 0, "total_chat_copy_events": 0},
                    )
                    row["total_chats"] += chats
                    feat_acc = sum(
                        f["code_acceptance_activity_count"]
                        for f in b["totals_by_feature"]
                        if f["feature"] != "code_completion"
                    )
                    row["total_chat_insertion_events"] += feat_acc // max(1, len(b["totals_by_ide"]))
                    row["total_chat_copy_events"] += chats // 4
                    chat_users_ed.setdefault(e["ide"], set()).add(i)
        comp_all = set().union(*comp_users_ed.values()) if comp_users_ed else set()
        chat_all = set().union(*chat_users_ed.values()) if chat_users_ed else set()
        return {
            "date": day.isoformat(),
            "total_active_users": len(idx),
            "total_engaged_users": len(engaged),
            "copilot_ide_code_completions": {
                "total_engaged_users": len(comp_all),
                "languages": [
                    {"name": lang, "total_engaged_users": len(u)}
                    for lang, u in sorted(comp_users_lang.items())
                ],
                "editors": [
                    {
                        "name": ed,
                        "total_engaged_users": len(comp_users_ed[ed]),
                        "models": [
                            {
                                **model,
                                "total_engaged_users": len(comp_users_ed[ed]),
                                "languages": [
                                    {
                                        "name": r["name"],
                                        "total_engaged_users": len(r["users"]),
                                        **{k: v for k, v in r.items() if k.startswith("total_code")},
                                    }
                                    for _, r in sorted(langs.items())
                                ],
                            }
                        ],
                    }
                    for ed, langs in sorted(completions.items())
                ],
            },
            "copilot_ide_chat": {
                "total_engaged_users": len(chat_all),
                "editors": [
                    {
                        "name": ed,
                        "total_engaged_users": len(chat_users_ed[ed]),
                        "models": [{**model, "total_engaged_users": len(chat_users_ed[ed]), **row}],
                    }
                    for ed, row in sorted(chat.items())
                ],
            },
            "copilot_dotcom_chat": {"total_engaged_users": 0},
            "copilot_dotcom_pull_requests": {"total_engaged_users": 0},
        }

    def legacy_days(self, scope: Scope | tuple[str, str], since: date, until: date) -> list[dict[str, Any]]:
        """Legacy day objects for ``since..until`` (days outside the legacy range are skipped)."""
        return [d for day in day_range(since, until) if (d := self.legacy_day(scope, day)) is not None]

    # --- report files ------------------------------------------------------------------------
    def report_lines(
        self, scope: Scope | tuple[str, str], report: str, day: date | None, version: int | None = None
    ) -> list[str] | None:
        """NDJSON lines of a report (None when there is no report: the server answers 204, or
        :meth:`empty_answer`'s empty 200 in messy mode).

        Args:
            scope: The organization or enterprise.
            report: A report name, e.g. ``users-1-day`` or ``organization-28-day``.
            day: The report day (ignored for 28-day reports).
            version: 1 for the first-served version of a restated day (messy mode), None or 2 for
                the final version; other days have one version.

        Raises:
            KeyError: unknown scope or a report this scope type does not have.
        """
        s = _scope(scope)
        self.members(s)
        kind = "organization" if s.type == ORGANIZATION else "enterprise"
        if report == f"{kind}-28-day":
            return [json.dumps(self.aggregate_28_day(s), separators=(",", ":"))]
        if report == "users-28-day":
            return [json.dumps(r, separators=(",", ":")) for r in self.users_28_day(s)]
        if day is None:
            raise KeyError(report)
        makers = {
            f"{kind}-1-day": lambda: [a] if (a := self.aggregate(s, day, version)) is not None else [],
            "users-1-day": lambda: self.users(s, day, version),
            "user-teams-1-day": lambda: self.user_teams(s, day),
            "repos-1-day": lambda: self.repos(s, day),
        }
        if report not in makers:
            raise KeyError(report)
        if not self.in_range(day) or (report == f"{kind}-1-day" and self._aggregate_is_late(s, day)):
            return None
        return [json.dumps(r, separators=(",", ":")) for r in makers[report]()]


DAILY_REPORTS_SERVED: dict[str, tuple[str, ...]] = {
    ORGANIZATION: ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
    ENTERPRISE: ("enterprise-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
}
LATEST_REPORTS_SERVED: dict[str, tuple[str, ...]] = {
    ORGANIZATION: ("organization-28-day", "users-28-day"),
    ENTERPRISE: ("enterprise-28-day", "users-28-day"),
}


def split_parts(lines: list[str], parts: int) -> list[list[str]]:
    """Split report lines into at most ``parts`` contiguous, non-empty parts (one part if empty)."""
    if not lines:
        return [[]]
    n = max(1, min(parts, len(lines)))
    size, extra = divmod(len(lines), n)
    out, pos = [], 0
    for k in range(n):
        step = size + (k < extra)
        out.append(lines[pos : pos + step])
        pos += step
    return out


def write_users_day(
    path_dir: str | Path,
    users: int = 100_000,
    parts: int = 4,
    day: date = date(2026, 11, 18),
    seed: int = 42,
    org: str = "bench-org",
) -> dict[str, Any]:
    """Write one ``users-1-day`` day of exactly ``users`` records as NDJSON part files.

    For benchmarks: every user is active (records use the same generator as the server), and the
    records are streamed to ``part-0001.ndjson`` ... so memory stays flat for 100,000+ users.

    Args:
        path_dir: Folder to write into (created if missing).
        users: Number of records (one per user).
        parts: Number of part files.
        day: The report day.
        seed: Data seed.
        org: Organization slug written into the records.

    Returns:
        ``{"files": [paths], "records": n, "bytes": total}``.
    """
    out = Path(path_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = SimulatorConfig(seed=seed, orgs=(org,), enterprises=(), users_per_org=1, start_day=day, end_day=day)
    ds = Dataset(cfg)
    scope = Scope(ORGANIZATION, org)
    org_id = ds.scope_id(scope)
    per_part = -(-users // max(1, parts))
    files, total, written = [], 0, 0
    for k in range(max(1, parts)):
        path = out / f"part-{k + 1:04d}.ndjson"
        with path.open("w", encoding="utf-8") as fh:
            for i in range(written, min(users, written + per_part)):
                p = ds._make_profile(i)
                rng = _rng(seed, "bench-facets", i, day.isoformat())
                facets = DayFacets(
                    completion=True,
                    chat=rng.random() < p.chat_affinity + 0.2,
                    agent=rng.random() < p.agent_affinity,
                    cli=p.cli_user,
                    review_active=p.reviewer and rng.random() < 0.3,
                    review_passive=p.reviewer and rng.random() < 0.4,
                    cloud_agent=p.agent_affinity > 0 and rng.random() < 0.07,
                    app=p.app_user,
                )
                rec = {
                    "day": day.isoformat(),
                    "user_id": p.user_id,
                    "user_login": p.login,
                    "organization_id": org_id,
                }
                rec.update(ds._user_body(p, day, facets))
                fh.write(json.dumps(rec, separators=(",", ":")))
                fh.write("\n")
            written = min(users, written + per_part)
        files.append(str(path))
        total += path.stat().st_size
    return {"files": files, "records": users, "bytes": total}
