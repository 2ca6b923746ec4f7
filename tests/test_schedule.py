"""Report-day arithmetic of the ingest DAG: scheduled windows, manual ranges and clipping."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from copilot_warehouse import config
from copilot_warehouse.config import ConfigError, Scope
from copilot_warehouse.pipeline import schedule

ORG = Scope(config.ORGANIZATION, "octo-demo")
ENT = Scope(config.ENTERPRISE, "octo-enterprise")


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("logical_date", "expected"),
    [
        pytest.param(datetime(2026, 11, 25, 6, tzinfo=UTC), d("2026-11-23"), id="mid-month"),
        pytest.param(
            datetime(2026, 3, 1, 6, tzinfo=UTC), d("2026-02-27"), id="March 1st -> Feb 27 (non-leap)"
        ),
        pytest.param(
            datetime(2028, 3, 1, 6, tzinfo=UTC), d("2028-02-28"), id="March 1st -> Feb 28 (leap year)"
        ),
        pytest.param(datetime(2027, 1, 1, 6, tzinfo=UTC), d("2026-12-30"), id="new year -> previous year"),
        pytest.param(
            datetime(2027, 1, 2, 0, 0, tzinfo=UTC), d("2026-12-31"), id="midnight UTC belongs to that day"
        ),
        pytest.param(
            datetime(2026, 11, 25, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
            d("2026-11-24"),
            id="non-UTC logical date is converted to UTC first",
        ),
        pytest.param(datetime(2026, 11, 25, 6), d("2026-11-23"), id="naive datetime taken as UTC"),
    ],
)
def test_report_day_is_logical_date_minus_publish_lag(logical_date, expected):
    assert schedule.report_day(logical_date) == expected
    assert config.PUBLISH_LAG_DAYS == 2


@pytest.mark.parametrize(
    ("logical_date", "repull", "expected"),
    [
        pytest.param(
            datetime(2026, 11, 25, 6, tzinfo=UTC),
            config.REPULL_DAYS,
            [d("2026-11-20"), d("2026-11-21"), d("2026-11-22"), d("2026-11-23")],
            id="default window: report day plus 3 trailing days",
        ),
        pytest.param(datetime(2026, 11, 25, 6, tzinfo=UTC), 0, [d("2026-11-23")], id="no re-pull"),
        pytest.param(
            datetime(2027, 1, 2, 6, tzinfo=UTC),
            2,
            [d("2026-12-29"), d("2026-12-30"), d("2026-12-31")],
            id="window crossing the year end",
        ),
        pytest.param(
            datetime(2026, 3, 2, 6, tzinfo=UTC),
            3,
            [d("2026-02-25"), d("2026-02-26"), d("2026-02-27"), d("2026-02-28")],
            id="window crossing the month end (February)",
        ),
        pytest.param(
            datetime(2026, 11, 25, 6, tzinfo=UTC),
            "5",
            [d("2026-11-18") + timedelta(days=i) for i in range(6)],
            id="re-pull given as text (Variable)",
        ),
    ],
)
def test_scheduled_window(logical_date, repull, expected):
    assert schedule.scheduled_days(logical_date, repull) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(-1, "between 0 and", id="negative"),
        pytest.param(99, "between 0 and", id="too long"),
        pytest.param("three", "whole number", id="not a number"),
    ],
)
def test_bad_repull_days_rejected(value, message):
    with pytest.raises(ConfigError, match=message):
        schedule.parse_repull_days(value)


def test_empty_repull_days_means_default():
    assert schedule.parse_repull_days(None) == config.REPULL_DAYS
    assert schedule.parse_repull_days("") == config.REPULL_DAYS


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            "2026-11-01", "2026-11-03", [d("2026-11-01"), d("2026-11-02"), d("2026-11-03")], id="inclusive"
        ),
        pytest.param("2026-11-05", "2026-11-05", [d("2026-11-05")], id="one day"),
        pytest.param("2026-11-05", None, [d("2026-11-05")], id="end defaults to start"),
        pytest.param("2026-12-31", "2027-01-01", [d("2026-12-31"), d("2027-01-01")], id="year edge"),
        pytest.param(
            "2028-02-28", "2028-03-01", [d("2028-02-28"), d("2028-02-29"), d("2028-03-01")], id="leap day"
        ),
        pytest.param(
            " 2026-11-05 ", date(2026, 11, 6), [d("2026-11-05"), d("2026-11-06")], id="whitespace and date"
        ),
    ],
)
def test_manual_range(start, end, expected):
    assert schedule.manual_days(start, end) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        pytest.param(
            "2026-11-05",
            "2026-11-01",
            "end_day 2026-11-01 is before start_day 2026-11-05",
            id="end before start",
        ),
        pytest.param(
            "2026-13-01", "2026-12-01", "start_day must be a date written YYYY-MM-DD", id="bad month"
        ),
        pytest.param("2026-11-01", "tomorrow", "end_day must be a date written YYYY-MM-DD", id="bad end"),
        pytest.param(None, "2026-11-01", "start_day is empty", id="end without start"),
        pytest.param("2020-01-01", "2026-11-01", "at most", id="absurdly long"),
    ],
)
def test_manual_range_rejected_with_clear_message(start, end, message):
    with pytest.raises(ConfigError, match=message):
        schedule.manual_days(start, end)


def test_clip_drops_days_before_history_and_outside_window(caplog):
    today = d("2026-11-25")
    days = config.day_range(d("2025-12-10"), d("2025-12-13")) + [d("2026-11-24"), d("2026-11-26")]
    with caplog.at_level(logging.WARNING, logger="copilot_warehouse.pipeline.schedule"):
        clipped = schedule.clip_days(ORG, days, today)
    # 2025-12-10/11 are before the org history start; 2025-12-12 is older than the 365 kept days
    # on 2026-11-25 (oldest 2025-11-25 -> the history start wins, so 12-12 and 12-13 are kept).
    assert clipped.days == [d("2025-12-12"), d("2025-12-13"), d("2026-11-24")]
    assert sum(len(v) for v in clipped.dropped.values()) == 3
    assert "organization:octo-demo" in caplog.text
    assert "2025-12-10..2025-12-11 before the organization history start 2025-12-12" in caplog.text
    assert "after today 2026-11-25" in caplog.text


def test_clip_drops_days_older_than_github_keeps():
    today = d("2027-03-01")
    clipped = schedule.clip_days(
        ENT, [d("2026-02-27"), d("2026-02-28"), d("2026-03-01"), d("2026-03-02")], today
    )
    assert clipped.days == [d("2026-03-01"), d("2026-03-02")]
    (reason,) = clipped.dropped
    assert "older than GitHub keeps" in reason and "oldest 2026-03-01" in reason


def test_clip_enterprise_history_starts_earlier():
    clipped = schedule.clip_days(ENT, [d("2025-10-09"), d("2025-10-10")], d("2026-01-01"))
    assert clipped.days == [d("2025-10-10")]
    assert schedule.clip_days(ORG, [d("2025-10-10")], d("2026-01-01")).days == []


@pytest.mark.parametrize(
    ("kwargs", "kind", "days"),
    [
        pytest.param(
            {"logical_date": datetime(2026, 11, 25, 6, tzinfo=UTC)},
            "scheduled",
            ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"],
            id="scheduled run",
        ),
        pytest.param(
            {"logical_date": datetime(2026, 11, 25, 6, tzinfo=UTC), "repull_days": 1},
            "scheduled",
            ["2026-11-22", "2026-11-23"],
            id="scheduled run with repull_days Param",
        ),
        pytest.param(
            {"logical_date": None, "run_after": datetime(2026, 11, 25, 9, tzinfo=UTC)},
            "scheduled",
            ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"],
            id="manual trigger without Params or logical date",
        ),
        pytest.param(
            {
                "logical_date": datetime(2026, 11, 25, tzinfo=UTC),
                "start_day": "2026-10-30",
                "end_day": "2026-11-02",
            },
            "manual",
            ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"],
            id="manual range across a month end",
        ),
    ],
)
def test_resolve_window(kwargs, kind, days):
    window = schedule.resolve_window(**kwargs)
    assert window.kind == kind
    assert window.as_dict()["days"] == days


def test_resolve_window_needs_an_anchor():
    with pytest.raises(ConfigError, match="logical date"):
        schedule.resolve_window(logical_date=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, [], id="upstream failed or skipped"),
        pytest.param({"receipts": []}, [{"receipts": []}], id="one mapped element arrives bare"),
        pytest.param([{"a": 1}, None, {"b": 2}], [{"a": 1}, {"b": 2}], id="several, one of them None"),
        pytest.param(({"a": 1},), [{"a": 1}], id="a lazy sequence"),
        pytest.param("organization:x", ["organization:x"], id="a bare string is one item"),
    ],
)
def test_as_list_takes_every_shape_airflow_hands_over(value, expected):
    assert schedule.as_list(value) == expected


def test_nothing_loaded_line_groups_scopes_that_share_a_reason():
    line = schedule.nothing_loaded_line(
        [
            "organization:a: skipped - the token was rejected",
            "enterprise:e: skipped - the token was rejected",
            "organization:b: no result - the scope failed, see its task logs",
        ]
    )
    assert line == (
        "nothing was loaded: organization:a, enterprise:e: skipped - the token was rejected"
        " | organization:b: no result - the scope failed, see its task logs"
    )
    assert "\n" not in line
