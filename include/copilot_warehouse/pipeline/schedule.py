"""Which report days a run of ``copilot_usage_ingest`` fetches: the one place for that arithmetic.

A scheduled run fires at its logical date, but GitHub publishes a day's reports about
``config.PUBLISH_LAG_DAYS`` full UTC days later and may still change them for a few more days. So a
scheduled run fetches its *report day* (logical date minus the lag) plus a trailing re-pull window
of ``repull_days`` earlier days. A manual run fetches the inclusive range given by the Params
``start_day``/``end_day``. Either way, days GitHub cannot serve (before the scope's history starts,
older than GitHub keeps, or in the future) are clipped with a log line and never requested.

Airflow 3 gives cron schedules zero-length data intervals, so everything here derives from the
logical date (or, for a manual run without one, the run's ``run_after``), never from ``now()``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from copilot_warehouse import config

log = logging.getLogger(__name__)

VAR_REPULL_DAYS = "copilot_repull_days"  # optional Airflow Variable overriding config.REPULL_DAYS
MAX_REPULL_DAYS = 31
MAX_MANUAL_DAYS = 400  # a bit more than GitHub keeps; protects against a typo'd year


def _utc_day(moment: datetime | date) -> date:
    """The UTC calendar day of ``moment`` (a naive datetime is taken as UTC)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.date()
    return moment


def report_day(logical_date: datetime | date, lag_days: int = config.PUBLISH_LAG_DAYS) -> date:
    """Report day of a scheduled run: the logical date's UTC day minus the publishing lag.

    Args:
        logical_date: the run's logical date (timezone-aware or UTC).
        lag_days: full UTC days GitHub needs to publish a day's report.

    Returns:
        The newest day whose report the run can expect to exist.
    """
    return _utc_day(logical_date) - timedelta(days=lag_days)


def parse_repull_days(value: object) -> int:
    """Validate a re-pull window (Param or Variable value) and return it as an int.

    Raises:
        config.ConfigError: not a whole number between 0 and ``MAX_REPULL_DAYS``.
    """
    if value is None or value == "":
        return config.REPULL_DAYS
    try:
        days = int(str(value).strip())
    except ValueError:
        raise config.ConfigError(
            f"repull_days must be a whole number of days between 0 and {MAX_REPULL_DAYS}, got {value!r}"
        ) from None
    if not 0 <= days <= MAX_REPULL_DAYS:
        raise config.ConfigError(
            f"repull_days must be between 0 and {MAX_REPULL_DAYS}, got {days}: "
            "a scheduled run re-pulls this many days before its report day"
        )
    return days


def scheduled_days(
    logical_date: datetime | date,
    repull_days: int = config.REPULL_DAYS,
    lag_days: int = config.PUBLISH_LAG_DAYS,
) -> list[date]:
    """Days a scheduled run fetches: its report day and the ``repull_days`` days before it.

    Returns:
        Ascending list of ``repull_days + 1`` days ending at ``report_day(logical_date)``.
    """
    repull_days = parse_repull_days(repull_days)
    end = report_day(logical_date, lag_days)
    return config.day_range(end - timedelta(days=repull_days), end)


def manual_days(start_day: object, end_day: object) -> list[date]:
    """Inclusive days of a manual run from the Params ``start_day``/``end_day``.

    Args:
        start_day: ``YYYY-MM-DD`` (or a date).
        end_day: ``YYYY-MM-DD`` (or a date); defaults to ``start_day`` when empty.

    Raises:
        config.ConfigError: a day is malformed, missing, the range is reversed or absurdly long.
    """
    if start_day in (None, "") and end_day not in (None, ""):
        raise config.ConfigError(
            f"end_day is {end_day!r} but start_day is empty: give both Params (YYYY-MM-DD), "
            "or neither for the scheduled window"
        )
    start = config.parse_day(start_day, "start_day")
    end = config.parse_day(end_day, "end_day") if end_day not in (None, "") else start
    if end < start:
        raise config.ConfigError(
            f"end_day {end} is before start_day {start}: give start_day <= end_day (both inclusive)"
        )
    if (end - start).days + 1 > MAX_MANUAL_DAYS:
        raise config.ConfigError(
            f"start_day {start} to end_day {end} is {(end - start).days + 1} days; GitHub keeps about "
            f"{config.HISTORY_KEPT_DAYS} days, so ask for at most {MAX_MANUAL_DAYS}"
        )
    return config.day_range(start, end)


def oldest_available_day(scope: config.Scope, today: date) -> date:
    """Oldest day GitHub can still serve for ``scope`` on ``today``."""
    return max(scope.history_start, today - timedelta(days=config.HISTORY_KEPT_DAYS))


@dataclass
class ClippedDays:
    """Days kept for one scope and, per reason, the days that were dropped."""

    days: list[date]
    dropped: dict[str, list[date]] = field(default_factory=dict)

    def describe(self, scope: config.Scope) -> str:
        """One line naming the scope and every dropped range, for the task log."""
        parts = [f"{len(ds)} day(s) {ds[0]}..{ds[-1]} {reason}" for reason, ds in self.dropped.items() if ds]
        return f"{scope.label}: skipped " + "; ".join(parts) if parts else f"{scope.label}: nothing clipped"


def clip_days(scope: config.Scope, days: list[date], today: date) -> ClippedDays:
    """Drop days GitHub cannot serve for ``scope`` and log why (they are never requested).

    Args:
        scope: the organization or enterprise.
        days: candidate days (any order; duplicates removed).
        today: the UTC day the run happens on (its logical date or run_after, not ``now()``).

    Returns:
        ``ClippedDays`` with the kept days ascending and the dropped ones by reason.
    """
    oldest = oldest_available_day(scope, today)
    kept: list[date] = []
    dropped: dict[str, list[date]] = {
        f"before the {scope.type} history start {scope.history_start}": [],
        f"older than GitHub keeps ({config.HISTORY_KEPT_DAYS} days, oldest {oldest})": [],
        f"after today {today} (not published yet)": [],
    }
    reasons = list(dropped)
    for day in sorted(set(days)):
        if day < scope.history_start:
            dropped[reasons[0]].append(day)
        elif day < oldest:
            dropped[reasons[1]].append(day)
        elif day > today:
            dropped[reasons[2]].append(day)
        else:
            kept.append(day)
    result = ClippedDays(kept, {k: v for k, v in dropped.items() if v})
    if result.dropped:
        log.warning("%s", result.describe(scope))
    return result


@dataclass(frozen=True)
class RunWindow:
    """What one ingest run asked for: the kind of run, its days and its notion of today."""

    kind: str  # 'scheduled' | 'manual'
    days: list[date]
    today: date

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (for XCom): days as ISO strings."""
        return {
            "kind": self.kind,
            "days": [d.isoformat() for d in self.days],
            "today": self.today.isoformat(),
        }


def resolve_window(
    *,
    logical_date: datetime | date | None,
    run_after: datetime | date | None = None,
    start_day: object = None,
    end_day: object = None,
    repull_days: object = None,
) -> RunWindow:
    """Decide the days of one ingest run from its context and Params.

    A run with ``start_day`` set is manual (that inclusive range); otherwise it is a scheduled
    window anchored at the logical date (or ``run_after`` for a manual run without a logical date).

    Args:
        logical_date: ``context["logical_date"]`` (None for some manual runs in Airflow 3).
        run_after: ``dag_run.run_after``, the fallback anchor.
        start_day: Param ``start_day`` (``YYYY-MM-DD``) or empty.
        end_day: Param ``end_day`` or empty.
        repull_days: Param/Variable value for the trailing re-pull window, or empty for the default.

    Raises:
        config.ConfigError: bad Params, or no anchor date at all.
    """
    anchor = logical_date if logical_date is not None else run_after
    if anchor is None:
        raise config.ConfigError("the run has neither a logical date nor run_after: cannot pick its days")
    today = _utc_day(anchor)
    if start_day not in (None, "") or end_day not in (None, ""):
        return RunWindow("manual", manual_days(start_day, end_day), today)
    return RunWindow("scheduled", scheduled_days(anchor, parse_repull_days(repull_days)), today)


def parse_scopes(orgs_value: object, enterprises_value: object = None) -> list[config.Scope]:
    """Scopes from the Variables ``copilot_orgs`` and optional ``copilot_enterprises``.

    Args:
        orgs_value: the Variable's text (a JSON list of org slugs), or None when it is not set.
        enterprises_value: likewise for enterprises; None or empty means none.

    Returns:
        Organizations then enterprises, each validated, without duplicates.

    Raises:
        config.ConfigError: the Variable is missing or malformed; the message says how to fix it.
    """
    import json

    def _slugs(value: object, var: str, kind: str, required: bool) -> list[str]:
        example = f"'[\"my-{'org' if kind == config.ORGANIZATION else 'enterprise'}\"]'"
        fix = f"set it with `airflow variables set {var} {example}` or AIRFLOW_VAR_{var.upper()}={example}"
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                state = "is not set" if value is None else "is empty"
                raise config.ConfigError(f"Airflow Variable {var} {state}: {fix}")
            return []
        if isinstance(value, str):
            text = value.strip()
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                if text.startswith(("[", "{", '"')):  # meant as JSON, but malformed
                    raise config.ConfigError(
                        f"Airflow Variable {var} is not valid JSON ({exc.msg} at character {exc.pos}): {fix}"
                    ) from None
                # A single bare slug is a common way to write one org; accept it.
                value = [text]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise config.ConfigError(f"Airflow Variable {var} must be a JSON list of {kind} names: {fix}")
        return [config.validate_slug(v.strip(), kind) for v in value]

    ents = _slugs(enterprises_value, config.VAR_ENTERPRISES, config.ENTERPRISE, required=False)
    # copilot_orgs may be left unset only when enterprises are configured instead.
    orgs = _slugs(orgs_value, config.VAR_ORGS, config.ORGANIZATION, required=not ents)
    scopes = [config.Scope(config.ORGANIZATION, o) for o in orgs]
    scopes += [config.Scope(config.ENTERPRISE, e) for e in ents]
    if not scopes:
        raise config.ConfigError(
            f"Airflow Variable {config.VAR_ORGS} is an empty list: name at least one org, e.g. "
            f"AIRFLOW_VAR_COPILOT_ORGS='[\"my-org\"]'"
        )
    return list(dict.fromkeys(scopes))


def as_list(value: object) -> list:
    """A task's upstream value as a list, whatever shape Airflow hands it over in.

    A mapped task (group) with one element gives that element rather than a one-item sequence,
    a skipped or failed upstream gives None, and several give a lazy sequence. Dicts and strings
    are single items; None items are dropped.
    """
    if value is None:
        return []
    if isinstance(value, dict | str | bytes):
        return [value]
    return [v for v in value if v is not None]


NOTHING_LOADED = "nothing was loaded"


def nothing_loaded_line(not_loaded: list[str]) -> str:
    """One line saying that no scope loaded, grouping scopes that share a reason.

    Args:
        not_loaded: ``"<scope label>: <why>"`` lines (``"organization:x: skipped - <reason>"``).

    Returns:
        ``"nothing was loaded: organization:a, enterprise:b: skipped - <reason> | ..."``.
    """
    by_reason: dict[str, list[str]] = {}
    for line in not_loaded:
        label, _, why = line.partition(": ")
        by_reason.setdefault(why, []).append(label)
    parts = [f"{', '.join(labels)}: {why}" for why, labels in by_reason.items()]
    return f"{NOTHING_LOADED}: " + (" | ".join(parts) if parts else "no scope was fetched")


def summarize_receipts(receipts: list[dict], loaded: dict | None = None) -> list[str]:
    """Run-summary lines per (scope, report): days fetched, 204s, failures, retries, records.

    Args:
        receipts: fetch receipts (``ingest.fetch_scope_days``); only their small fields are read.
        loaded: optional ``ingest.load_receipts`` summary; its ``scopes`` counts (or its
            ``partitions`` list) add the records loaded per report.

    Returns:
        One line per scope and report, in a stable order.
    """
    records: dict[tuple[str, str, str], int] = {}
    if loaded:
        for label, reports in (loaded.get("scopes") or {}).items():
            scope_type, _, scope_name = label.partition(":")
            for report, counts in reports.items():
                records[(scope_type, scope_name, report)] = int(counts.get("records") or 0)
        if not records:
            for part in loaded.get("partitions") or []:
                key = (part.get("scope_type", ""), part.get("scope_name", ""), part.get("report", ""))
                records[key] = records.get(key, 0) + int(part.get("records") or 0)
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in receipts:
        if r.get("report_unavailable"):  # a report not offered for the scope: said once elsewhere
            continue
        groups.setdefault((r.get("scope_type", ""), r.get("scope_name", ""), r.get("report", "")), []).append(
            r
        )
    lines = []
    for key in sorted(groups):
        rs = groups[key]
        by_status: dict[str, int] = {}
        for r in rs:
            by_status[str(r.get("status"))] = by_status.get(str(r.get("status")), 0) + 1
        reasons = sorted(
            {
                str(r.get("message"))
                for r in rs
                if r.get("status") not in ("landed", "loaded") and r.get("message")
            }
        )
        line = (
            f"{key[0]}:{key[1]} {key[2]}: {len(rs)} day(s) requested, "
            + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
            + f", {sum(int(r.get('retries') or 0) for r in rs)} retries"
        )
        if key in records:
            line += f", {records[key]} records loaded"
        if reasons:
            line += " | " + "; ".join(reasons)[:300]
        lines.append(line)
    return lines
