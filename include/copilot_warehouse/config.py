"""Settings, scopes, report names, day arithmetic and input validation.

One place for every name other parts rely on (DESIGN.md §3): environment variables, the
Connection id, Variable names, report names and GitHub's history windows.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

# --- names other people rely on -------------------------------------------------------------
CONN_ID = "github_copilot"
VAR_ORGS = "copilot_orgs"
VAR_ENTERPRISES = "copilot_enterprises"
ENV_WAREHOUSE = "COPILOT_WAREHOUSE_PATH"
ENV_LANDING = "COPILOT_LANDING_PATH"
ENV_PRICE_PER_AI_CREDIT = "COPILOT_PRICE_PER_AI_CREDIT_USD"
DEFAULT_PRICE_PER_AI_CREDIT_USD = 0.04
# Set by `make run` / `make airflow` when the data comes from the bundled simulator:
# the last day its data holds (the freshness check then says so instead of calling it stale).
ENV_SIMULATOR_LAST_DAY = "COPILOT_SIMULATOR_LAST_DAY"
MAX_PRICE_PER_AI_CREDIT_USD = 1_000_000
# Concurrent connections to GitHub (API calls and signed-URL downloads) of one client. GitHub asks
# integrators to avoid concurrent requests (secondary rate limits), so the default stays small: 4 is
# what `make backfill` already used (one thread per scope, at most 4) and gets a backfill's wall
# time close to its download time, yet keeps far below the 100 concurrent requests GitHub counts as
# abuse. 1 means strictly one request at a time.
ENV_MAX_CONNECTIONS = "COPILOT_MAX_CONNECTIONS"
DEFAULT_MAX_CONNECTIONS = 4
MAX_MAX_CONNECTIONS = 16
# How downloaded report parts are stored in the landing zone: "zstd" (default; part-NNNN.ndjson.zst,
# 10-25x smaller, read by DuckDB directly), "gzip" (part-NNNN.ndjson.gz, a little larger, slower to
# write) or "none" (plain part-NNNN.ndjson, as before). Partitions landed any way stay readable
# whatever the setting says now.
ENV_LANDING_COMPRESSION = "COPILOT_LANDING_COMPRESSION"
LANDING_COMPRESSIONS = ("zstd", "gzip", "none")
DEFAULT_LANDING_COMPRESSION = "zstd"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_LANDING = "data/landing"
DEFAULT_API_VERSION = "2026-03-10"
DUCKDB_POOL = "duckdb_writer"
RAW_ASSET_URI = "duckdb://copilot/raw"
MARTS_ASSET_URI = "duckdb://copilot/marts"
# How the warehouse stores raw JSON text (raw.*.record, raw.quarantine.raw_line): "zstd" (default;
# the columns are declared `using compression zstd`, about 5x smaller than DuckDB's default string
# compression, read the same by every query) or "none" (DuckDB's default, as before). Raw tables
# created before are rewritten compressed once when the setting is zstd (warehouse.connect).
ENV_WAREHOUSE_COMPRESSION = "COPILOT_WAREHOUSE_COMPRESSION"
WAREHOUSE_COMPRESSIONS = ("zstd", "none")
DEFAULT_WAREHOUSE_COMPRESSION = "zstd"

# --- GitHub's publishing rules (reference §3.3) ----------------------------------------------
ORG_HISTORY_START = date(2025, 12, 12)
ENTERPRISE_HISTORY_START = date(2025, 10, 10)
HISTORY_KEPT_DAYS = 365
PUBLISH_LAG_DAYS = 2  # a day's report is complete about two full UTC days later
REPULL_DAYS = 3  # every scheduled run re-pulls this many trailing days (data may still change)
LEGACY_RETIRED_ON = date(2026, 4, 2)

ORGANIZATION = "organization"
ENTERPRISE = "enterprise"

# Daily reports per scope type (the 1-day reports are the system of record).
DAILY_REPORTS: dict[str, tuple[str, ...]] = {
    ORGANIZATION: ("organization-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
    ENTERPRISE: ("enterprise-1-day", "users-1-day", "user-teams-1-day", "repos-1-day"),
}
LATEST_28_DAY_REPORTS: dict[str, tuple[str, ...]] = {
    ORGANIZATION: ("organization-28-day", "users-28-day"),
    ENTERPRISE: ("enterprise-28-day", "users-28-day"),
}

# GitHub's naming rules: orgs/enterprises are alphanumeric with single inner hyphens, at most
# 39 characters. Checked before a slug reaches a URL or a file path.
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SLUG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class ConfigError(ValueError):
    """A setting or input is wrong; the message says what and how to fix it."""


@dataclass(frozen=True, order=True)
class Scope:
    """An organization or an enterprise whose reports we fetch."""

    type: str
    name: str

    def __post_init__(self) -> None:
        if self.type not in (ORGANIZATION, ENTERPRISE):
            raise ConfigError(f"scope type must be 'organization' or 'enterprise', not {self.type!r}")
        validate_slug(self.name, self.type)

    @property
    def api_prefix(self) -> str:
        """URL path prefix: ``/orgs/<name>`` or ``/enterprises/<name>``."""
        return f"/orgs/{self.name}" if self.type == ORGANIZATION else f"/enterprises/{self.name}"

    @property
    def history_start(self) -> date:
        return ORG_HISTORY_START if self.type == ORGANIZATION else ENTERPRISE_HISTORY_START

    @property
    def label(self) -> str:
        return f"{self.type}:{self.name}"

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "name": self.name}

    @classmethod
    def from_dict(cls, d: dict[str, str]) -> Scope:
        return cls(d["type"], d["name"])


def validate_slug(slug: object, kind: str = ORGANIZATION) -> str:
    """Return ``slug`` if it follows GitHub's naming rules, else raise ConfigError."""
    if not isinstance(slug, str) or not _SLUG_RE.fullmatch(slug):
        raise ConfigError(
            f"{slug!r} is not a valid GitHub {kind} name: use letters, digits and single hyphens "
            "(not at the start or end), at most 39 characters"
        )
    return slug


def parse_day(value: object, name: str = "day") -> date:
    """Parse ``YYYY-MM-DD`` (or a date/datetime) into a date, with a clear error."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    # Only YYYY-MM-DD: fromisoformat would also take '20261118' or ISO weeks like '2026-W47'.
    if isinstance(value, str) and _DAY_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{name} must be a date written YYYY-MM-DD, got {value!r}")


def day_range(start: date, end: date) -> list[date]:
    """Inclusive list of days from ``start`` to ``end``; raises if the range is reversed."""
    if end < start:
        raise ConfigError(f"end day {end} is before start day {start}: give start_day <= end_day")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def warehouse_path() -> Path:
    """DuckDB file from ``COPILOT_WAREHOUSE_PATH`` (default ``data/warehouse.duckdb``)."""
    return Path(os.environ.get(ENV_WAREHOUSE) or DEFAULT_WAREHOUSE)


def landing_path() -> str:
    """Landing zone root from ``COPILOT_LANDING_PATH`` (default ``data/landing``).

    A local path or a URL (``file://``, ``s3://``) handled through fsspec.
    """
    return os.environ.get(ENV_LANDING) or DEFAULT_LANDING


def landing_compression(value: object = None) -> str:
    """How downloaded report parts are written to the landing zone: ``zstd``, ``gzip`` or ``none``.

    Args:
        value: the setting to check; None or blank reads ``COPILOT_LANDING_COMPRESSION``
            (unset or blank: ``zstd``). Case and surrounding spaces are ignored.

    Raises:
        ConfigError: any other value.
    """
    return _choice(value, ENV_LANDING_COMPRESSION, LANDING_COMPRESSIONS, DEFAULT_LANDING_COMPRESSION)


def check_settings() -> None:
    """Read every setting a run depends on, so a malformed one stops ``make run``/``make backfill``
    with one clear line before any work (not after the fetch, in a task log).

    Raises:
        ConfigError: the first malformed setting, naming it and what it accepts.
    """
    price_per_ai_credit_usd()
    max_connections()
    landing_compression()
    warehouse_compression()


def price_per_ai_credit_usd(value: object = None) -> float:
    """The price of one AI credit in US dollars, for estimated costs (a setting, not a GitHub value).

    Args:
        value: the price to check; default the env var ``COPILOT_PRICE_PER_AI_CREDIT_USD``
            (unset or blank: 0.04). The same rule as the dbt macro ``price_per_ai_credit_usd``,
            checked here so ``make run``, ``make backfill`` and the transform DAG stop before any
            work with one clear line.

    Returns:
        The price as a float from 0 to 1000000.

    Raises:
        ConfigError: not a number, NaN, infinite, negative or above 1000000.
    """
    raw = os.environ.get(ENV_PRICE_PER_AI_CREDIT, "") if value is None else value
    text = str(raw).strip()
    if not text:
        return DEFAULT_PRICE_PER_AI_CREDIT_USD
    try:
        price = float(text)
    except ValueError:
        price = math.nan
    if not math.isfinite(price) or not 0 <= price <= MAX_PRICE_PER_AI_CREDIT_USD:
        raise ConfigError(
            f"{ENV_PRICE_PER_AI_CREDIT} must be a number from 0 to {MAX_PRICE_PER_AI_CREDIT_USD}, "
            f"got {text!r}"
        )
    return price


def max_connections(value: object = None, source: str = ENV_MAX_CONNECTIONS) -> int:
    """How many requests one client may have in flight to GitHub at once (API calls and downloads).

    Args:
        value: the setting to check (e.g. the Connection's extra ``max_connections``); None or blank
            reads the env var ``COPILOT_MAX_CONNECTIONS`` (unset or blank: 4).
        source: the name the error message gives the setting.

    Returns:
        An integer from 1 to 16.

    Raises:
        ConfigError: not a whole number, or outside 1..16.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        value, source = os.environ.get(ENV_MAX_CONNECTIONS, ""), ENV_MAX_CONNECTIONS
        if not value.strip():
            return DEFAULT_MAX_CONNECTIONS
    text = str(value).strip()
    try:
        number = int(text) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= MAX_MAX_CONNECTIONS:
        raise ConfigError(
            f"{source} must be a whole number of concurrent connections from 1 to {MAX_MAX_CONNECTIONS} "
            f"(default {DEFAULT_MAX_CONNECTIONS}; GitHub asks for few concurrent requests), got {text!r}"
        )
    return number


def simulator_last_day() -> date | None:
    """The bundled simulator's last day (``COPILOT_SIMULATOR_LAST_DAY``), or None for real GitHub.

    Raises:
        ConfigError: the variable is set but not a ``YYYY-MM-DD`` day.
    """
    value = os.environ.get(ENV_SIMULATOR_LAST_DAY, "").strip()
    return parse_day(value, ENV_SIMULATOR_LAST_DAY) if value else None


def warehouse_compression(value: object = None) -> str:
    """How the warehouse stores raw JSON text columns: ``zstd`` or ``none``.

    Args:
        value: the setting to check; None or blank reads ``COPILOT_WAREHOUSE_COMPRESSION``
            (unset or blank: ``zstd``). Case and surrounding spaces are ignored.

    Raises:
        ConfigError: any other value.
    """
    return _choice(value, ENV_WAREHOUSE_COMPRESSION, WAREHOUSE_COMPRESSIONS, DEFAULT_WAREHOUSE_COMPRESSION)


def _choice(value: object, env: str, choices: tuple[str, ...], default: str) -> str:
    """``value`` (None or blank: the env var ``env``; unset or blank: ``default``) as one of
    ``choices``, case and surrounding spaces ignored; anything else raises ConfigError naming ``env``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        value = os.environ.get(env, "")
    text = str(value).strip().lower()
    if not text:
        return default
    if text not in choices:
        raise ConfigError(
            f"{env} must be one of {', '.join(choices)} (default {default}), got {str(value).strip()!r}"
        )
    return text
