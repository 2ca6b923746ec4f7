"""Input validation: names, days and settings are checked before they reach a URL, a path or GitHub.

- Organization and enterprise slugs follow GitHub's naming rules (letters, digits, single inner
  hyphens, at most 39 characters) wherever a scope enters: ``config.Scope``, a scope coming back
  from XCom (``Scope.from_dict``), the Variables (``schedule.parse_scopes``). Nothing that fails
  them reaches the simulator or the landing zone.
- Report names and file names cannot walk out of the landing zone.
- Days and ranges are refused with a message that says what was expected.
- A missing Connection or Variable is explained in one sentence that says how to fix it.
- Receipts coming back from XCom are checked again before the loader reads a file.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from copilot_dev.simulator import SimulatorServer
from copilot_warehouse import config
from copilot_warehouse.config import ConfigError, Scope
from copilot_warehouse.extract.client import CopilotClient, ghe_base_url
from copilot_warehouse.land import zone
from copilot_warehouse.pipeline import ingest, schedule

BAD_SLUGS = [
    pytest.param("../etc", id="path traversal"),
    pytest.param("..", id="parent folder"),
    pytest.param("octo/demo", id="slash"),
    pytest.param("octo\\demo", id="backslash"),
    pytest.param("my org", id="space"),
    pytest.param("-octo", id="leading hyphen"),
    pytest.param("octo-", id="trailing hyphen"),
    pytest.param("octo--demo", id="double hyphen"),
    pytest.param("a" * 40, id="40 characters"),
    pytest.param("", id="empty"),
    pytest.param("octo_demo", id="underscore"),
    pytest.param("octo.demo", id="dot"),
    pytest.param("octo?x=1", id="query string"),
    pytest.param("octo%2F..", id="percent-encoded slash"),
    pytest.param("ôcto", id="non-ascii letter"),
    pytest.param("octo\x00", id="NUL byte"),
    pytest.param("octo-demo\n", id="trailing newline"),
    pytest.param(None, id="None"),
    pytest.param(123, id="a number"),
]
GOOD_SLUGS = [
    pytest.param("octo-demo", id="hyphenated"),
    pytest.param("a", id="one character"),
    pytest.param("Octo1", id="mixed case and digit"),
    pytest.param("a" * 39, id="39 characters"),
    pytest.param("1-2-3", id="digits and single hyphens"),
]
ONE_SENTENCE = re.compile(r"[.!?](?:\s+|$)")


def sentences(text: str) -> int:
    """Sentence ends in ``text`` (a final one without punctuation counts too)."""
    text = text.strip().replace("e.g. ", "eg ").replace("i.e. ", "ie ")
    ends = ONE_SENTENCE.findall(text)
    return max(1, len(ends) + (not text.endswith((".", "!", "?"))))


# --- slugs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", GOOD_SLUGS)
@pytest.mark.parametrize("kind", [config.ORGANIZATION, config.ENTERPRISE])
def test_valid_slugs_are_accepted(kind, slug):
    scope = Scope(kind, slug)
    assert scope.name == slug
    assert config.validate_slug(slug, kind) == slug


@pytest.mark.parametrize("slug", BAD_SLUGS)
@pytest.mark.parametrize("kind", [config.ORGANIZATION, config.ENTERPRISE])
def test_invalid_slugs_are_refused_with_the_rule(kind, slug):
    with pytest.raises(ConfigError) as info:
        Scope(kind, slug)
    message = str(info.value)
    assert f"not a valid GitHub {kind} name" in message
    assert "at most 39 characters" in message
    assert sentences(message) == 1


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_a_scope_from_xcom_is_validated_again(slug):
    """Receipts and work items travel through XCom as dicts; rebuilding them re-checks the name."""
    with pytest.raises(ConfigError, match="not a valid GitHub organization name"):
        Scope.from_dict({"type": "organization", "name": slug})


@pytest.mark.parametrize(
    "scope_type",
    [
        pytest.param("org", id="abbreviated"),
        pytest.param("user", id="users are not scopes"),
        pytest.param("../organization", id="path traversal"),
    ],
)
def test_unknown_scope_types_are_refused(scope_type):
    with pytest.raises(ConfigError, match="scope type must be 'organization' or 'enterprise'"):
        Scope(scope_type, "octo-demo")


@pytest.mark.parametrize(
    ("orgs", "enterprises", "words"),
    [
        pytest.param('["../etc"]', None, "'../etc' is not a valid GitHub organization name", id="traversal"),
        pytest.param('["octo-demo", "my org"]', None, "'my org' is not a valid", id="space in second org"),
        pytest.param("-octo", None, "'-octo' is not a valid", id="bare slug with leading hyphen"),
        pytest.param(None, '["a/b"]', "'a/b' is not a valid GitHub enterprise name", id="bad enterprise"),
        pytest.param('{"org": "octo"}', None, "must be a JSON list of organization names", id="an object"),
        pytest.param("[1, 2]", None, "must be a JSON list of organization names", id="numbers"),
        pytest.param("[]", None, "is an empty list", id="empty list"),
        pytest.param('["solo-org",]', None, "copilot_orgs is not valid JSON", id="malformed JSON"),
        pytest.param(None, '["a" "b"]', "copilot_enterprises is not valid JSON", id="malformed enterprises"),
    ],
)
def test_variables_with_bad_scopes_are_refused(orgs, enterprises, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        schedule.parse_scopes(orgs, enterprises)


def test_the_ghe_subdomain_is_a_slug_too():
    assert ghe_base_url("octo") == "https://api.octo.ghe.com"
    for bad in ("evil.com/x", "../x", "octo.ghe.com#"):
        with pytest.raises(ConfigError, match="not a valid GitHub GHE.com subdomain name"):
            ghe_base_url(bad)


# --- nothing invalid reaches the API or the landing zone --------------------------------------


@pytest.mark.parametrize(
    ("report", "day", "words"),
    [
        pytest.param("../../../rate_limit", "2026-11-18", "unknown report", id="report traversal"),
        pytest.param("users-1-day?x=1", "2026-11-18", "unknown report", id="report with a query"),
        pytest.param("users-1-day", "2026-11-18&per_page=1", "day must be a date", id="day injection"),
        pytest.param("users-1-day", "../2026-11-18", "day must be a date", id="day traversal"),
        pytest.param("users-1-day", "2026-02-30", "day must be a date", id="impossible day"),
        pytest.param("users-1-day", None, "needs day=YYYY-MM-DD", id="1-day report without day"),
    ],
)
def test_client_refuses_bad_reports_and_days_before_any_request(simulator, report, day, words):
    client = CopilotClient(simulator.url, simulator.config.token, sleep=lambda s: None, max_attempts=1)
    with pytest.raises(ConfigError, match=re.escape(words)):
        client.report_links(Scope("organization", "octo-demo"), report, day)
    assert simulator.requests == [], "the request must not have been sent"


@pytest.mark.parametrize(
    "report",
    [
        pytest.param("../../outside", id="traversal"),
        pytest.param("a/b", id="slash"),
        pytest.param(".hidden", id="dot file"),
        pytest.param("a\\b", id="backslash"),
        pytest.param("", id="empty"),
    ],
)
def test_landing_refuses_report_names_that_leave_the_partition(tmp_path, report):
    root = tmp_path / "landing"
    with pytest.raises(zone.LandingError, match="invalid report name"):
        zone.write_partition(root, Scope("organization", "octo-demo"), report, "2026-11-18", 200, {})
    assert _files_outside(tmp_path, root) == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../../escape.ndjson", id="traversal"),
        pytest.param("sub/part.ndjson", id="subfolder"),
        pytest.param(".part.ndjson", id="dot file"),
        pytest.param(zone.MANIFEST, id="the manifest itself"),
    ],
)
def test_landing_refuses_file_names_that_leave_the_partition(tmp_path, name):
    root = tmp_path / "landing"
    with pytest.raises(zone.LandingError):
        zone.write_partition(
            root, Scope("organization", "octo-demo"), "users-1-day", "2026-11-18", 200, {name: b"{}\n"}
        )
    assert _files_outside(tmp_path, root) == []
    assert zone.list_partitions(root) == []


def test_landing_ignores_folders_that_are_not_valid_scopes(tmp_path, caplog):
    root = tmp_path / "landing"
    good = Scope("organization", "octo-demo")
    zone.write_partition(root, good, "users-1-day", "2026-11-18", 204)
    stray = root / "organization" / "bad_name" / "users-1-day" / "2026-11-18"
    stray.mkdir(parents=True)
    (stray / zone.MANIFEST).write_text("{}")
    refs = zone.list_partitions(root)
    assert [(r.scope, r.report, r.day) for r in refs] == [(good, "users-1-day", date(2026, 11, 18))]
    assert "ignoring an unexpected folder" in caplog.text


def _files_outside(tmp_path: Path, root: Path) -> list[Path]:
    return [p for p in tmp_path.rglob("*") if p.is_file() and root not in p.parents]


# --- days and ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-11-18", date(2026, 11, 18), id="ISO day"),
        pytest.param(" 2026-11-18 ", date(2026, 11, 18), id="surrounding spaces"),
        pytest.param(date(2026, 11, 18), date(2026, 11, 18), id="a date"),
        pytest.param("2028-02-29", date(2028, 2, 29), id="leap day"),
    ],
)
def test_days_are_parsed(value, expected):
    assert config.parse_day(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2026-13-01", id="month 13"),
        pytest.param("2026-02-30", id="30 February"),
        pytest.param("2027-02-29", id="29 February of a common year"),
        pytest.param("18/11/2026", id="European order"),
        pytest.param("2026/11/18", id="slashes"),
        pytest.param("yesterday", id="a word"),
        pytest.param("", id="empty"),
        pytest.param(None, id="None"),
        pytest.param(20261118, id="an integer"),
        pytest.param("2026-11-18; drop table raw.ingest_log", id="SQL injection"),
    ],
)
def test_malformed_days_are_refused_with_the_expected_format(value):
    with pytest.raises(ConfigError) as info:
        config.parse_day(value, "start_day")
    assert str(info.value).startswith("start_day must be a date written YYYY-MM-DD, got ")
    assert sentences(str(info.value)) == 1


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("20261118", id="basic format without hyphens"),
        pytest.param("2026-W47-3", id="ISO week date"),
        pytest.param("2026-W47", id="ISO week"),
        pytest.param("2026-322", id="ordinal date"),
    ],
)
def test_only_the_documented_day_format_is_accepted(value):
    """``parse_day`` promises YYYY-MM-DD; Python 3.11's ``date.fromisoformat`` also takes ISO
    week and ordinal dates, so a typo such as ``2026-W47`` silently becomes a Monday."""
    with pytest.raises(ConfigError, match="must be a date written YYYY-MM-DD"):
        config.parse_day(value)


def test_reversed_range_says_which_day_is_which():
    with pytest.raises(ConfigError) as info:
        config.day_range(date(2026, 11, 20), date(2026, 11, 18))
    assert str(info.value) == "end day 2026-11-18 is before start day 2026-11-20: give start_day <= end_day"


def test_a_range_is_inclusive():
    assert config.day_range(date(2026, 11, 18), date(2026, 11, 20)) == [
        date(2026, 11, 18),
        date(2026, 11, 19),
        date(2026, 11, 20),
    ]


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        pytest.param(
            "2026-11-20", "2026-11-18", "end_day 2026-11-18 is before start_day 2026-11-20", id="reversed"
        ),
        pytest.param("2026-11-18", "2026-11-31", "end_day must be a date written YYYY-MM-DD", id="bad end"),
        pytest.param("", "2026-11-18", "end_day is '2026-11-18' but start_day is empty", id="no start"),
        pytest.param("2024-01-01", "2026-11-18", "ask for at most 400", id="typo'd year"),
    ],
)
def test_manual_run_params_are_checked(start, end, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        schedule.manual_days(start, end)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param(-1, "between 0 and 31", id="negative"),
        pytest.param(32, "between 0 and 31", id="too many"),
        pytest.param("three", "whole number of days", id="a word"),
        pytest.param("1.5", "whole number of days", id="a fraction"),
    ],
)
def test_repull_window_is_checked(value, words):
    with pytest.raises(ConfigError, match=words):
        schedule.parse_repull_days(value)


def test_a_run_without_any_date_is_refused():
    with pytest.raises(ConfigError, match="neither a logical date nor run_after"):
        schedule.resolve_window(logical_date=None, run_after=None)


# --- missing settings ----------------------------------------------------------------------------


def test_missing_connection_is_explained_in_one_sentence_with_the_fix(monkeypatch):
    from copilot_airflow.hooks import GitHubCopilotHook

    monkeypatch.delenv("AIRFLOW_CONN_GITHUB_COPILOT", raising=False)
    with pytest.raises(ConfigError) as info:
        GitHubCopilotHook().get_conn()
    message = str(info.value)
    assert message.startswith("Airflow Connection 'github_copilot' is not defined")
    assert "AIRFLOW_CONN_GITHUB_COPILOT=" in message
    assert "airflow connections add github_copilot" in message
    assert sentences(message) == 1


def test_a_connection_without_token_is_explained_in_one_sentence(monkeypatch):
    from copilot_airflow.hooks import GitHubCopilotHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_GITHUB_COPILOT", json.dumps({"conn_type": "http", "host": "https://api.github.com"})
    )
    with pytest.raises(ConfigError) as info:
        GitHubCopilotHook().get_conn()
    message = str(info.value)
    assert "has no token: put the GitHub token in its password field" in message
    assert sentences(message) == 1


@pytest.mark.parametrize(
    ("orgs", "enterprises"),
    [
        pytest.param(None, None, id="unset"),
        pytest.param("", None, id="empty text"),
        pytest.param("  ", "", id="blank"),
    ],
)
def test_missing_orgs_variable_is_explained_in_one_sentence_with_the_fix(orgs, enterprises):
    with pytest.raises(ConfigError) as info:
        schedule.parse_scopes(orgs, enterprises)
    message = str(info.value)
    state = "is not set" if orgs is None else "is empty"  # set to nothing is not "not set"
    assert message.startswith(f"Airflow Variable copilot_orgs {state}: ")
    assert "airflow variables set copilot_orgs" in message
    assert "AIRFLOW_VAR_COPILOT_ORGS=" in message
    assert sentences(message) == 1


def test_enterprises_alone_are_enough():
    scopes = schedule.parse_scopes(None, '["octo-enterprise"]')
    assert scopes == [Scope("enterprise", "octo-enterprise")]


def test_a_client_without_token_says_where_the_token_goes():
    with pytest.raises(ConfigError, match="password of Airflow Connection 'github_copilot'"):
        CopilotClient("http://127.0.0.1:9", "   ")


def test_a_valid_scope_round_trips_through_the_simulator(simulator: SimulatorServer):
    """The positive control for the refusals above: a valid request goes through."""
    client = CopilotClient(simulator.url, simulator.config.token, sleep=lambda s: None)
    links = client.report_links(Scope("organization", "octo-demo"), "users-1-day", "2026-11-18")
    assert links is not None and len(links.links) == simulator.config.parts
    assert simulator.count(r"/orgs/octo-demo/copilot/metrics/reports/users-1-day$", status=200) == 1


# --- receipts coming back from XCom ---------------------------------------------------------------


def _receipt(**changes: object) -> dict:
    receipt = {
        "scope_type": "organization",
        "scope_name": "octo-demo",
        "report": "users-1-day",
        "day": "2026-11-18",
        "status": "landed",
        "http_status": 200,
        "parts": 1,
        "message": None,
        "retries": 0,
    }
    return {**receipt, **changes}


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        pytest.param(
            {"scope_name": "../../etc"},
            ConfigError,
            "'../../etc' is not a valid GitHub organization name",
            id="scope traversal",
        ),
        pytest.param(
            {"scope_type": "user"},
            ConfigError,
            "scope type must be 'organization' or 'enterprise'",
            id="scope type",
        ),
        pytest.param(
            {"report": "../../../etc/passwd"},
            ingest.IngestError,
            "unknown report '../../../etc/passwd'",
            id="report traversal",
        ),
        pytest.param(
            {"day": "../2026-11-18"}, ConfigError, "day must be a date written YYYY-MM-DD", id="day"
        ),
    ],
)
def test_load_refuses_receipts_naming_invalid_partitions(tmp_path, changes, error, words):
    """Receipts travel through XCom; the loader checks them again before it reads any file."""
    root = tmp_path / "landing"
    zone.write_partition(
        root, Scope("organization", "octo-demo"), "users-1-day", "2026-11-18", 200, {"part-0001.ndjson": b""}
    )
    with pytest.raises(error, match=re.escape(words)):
        ingest.load_receipts([_receipt(**changes)], tmp_path / "warehouse.duckdb", root, lock_timeout=5)
    assert _files_outside(tmp_path, root) == [tmp_path / "warehouse.duckdb"]


# --- the price per AI credit (COPILOT_PRICE_PER_AI_CREDIT_USD) --------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", 0.04), ("  ", 0.04), ("0", 0.0), (" 0.5 ", 0.5), ("1e3", 1000.0), ("1000000", 1e6)],
)
def test_prices_are_parsed(monkeypatch, value, expected):
    monkeypatch.setenv(config.ENV_PRICE_PER_AI_CREDIT, value)
    assert config.price_per_ai_credit_usd() == expected


def test_no_price_setting_means_the_default(monkeypatch):
    monkeypatch.delenv(config.ENV_PRICE_PER_AI_CREDIT, raising=False)
    assert config.price_per_ai_credit_usd() == 0.04


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-inf", "-1", "1000001", "0,04", "$1"])
def test_malformed_prices_are_refused_in_one_line(monkeypatch, value):
    monkeypatch.setenv(config.ENV_PRICE_PER_AI_CREDIT, value)
    with pytest.raises(ConfigError) as err:
        config.price_per_ai_credit_usd()
    assert str(err.value) == (
        f"COPILOT_PRICE_PER_AI_CREDIT_USD must be a number from 0 to 1000000, got '{value}'"
    )


@pytest.mark.parametrize("command", [["run"], ["backfill", "--start-day", "2026-10-01"]])
def test_run_and_backfill_stop_on_a_malformed_price_before_any_work(monkeypatch, tmp_path, capsys, command):
    """One ``error:`` line and exit 1 (make then exits 2); nothing is created or started."""
    from copilot_dev import run as make_run

    warehouse = tmp_path / "data" / "warehouse.duckdb"
    monkeypatch.setenv(config.ENV_WAREHOUSE, str(warehouse))
    monkeypatch.setenv(config.ENV_PRICE_PER_AI_CREDIT, "abc")
    assert make_run.cli(command[0], command[1:]) == 1
    out = capsys.readouterr()
    assert out.err.strip() == (
        "error: COPILOT_PRICE_PER_AI_CREDIT_USD must be a number from 0 to 1000000, got 'abc'"
    )
    assert "Source:" not in out.out
    assert not warehouse.parent.exists()


@pytest.mark.parametrize(
    "setting, value, message",
    [
        (
            config.ENV_LANDING_COMPRESSION,
            "zst",
            "COPILOT_LANDING_COMPRESSION must be one of zstd, gzip, none",
        ),
        ("COPILOT_WAREHOUSE_COMPRESSION", "lz4", "COPILOT_WAREHOUSE_COMPRESSION must be one of"),
    ],
)
@pytest.mark.parametrize("command", [["run"], ["backfill", "--start-day", "2026-10-01"]])
def test_run_and_backfill_stop_on_a_malformed_compression_before_any_work(
    monkeypatch, tmp_path, capsys, command, setting, value, message
):
    """Found by a new user: a bad compression setting failed after a 2-minute run, in task logs."""
    from copilot_dev import run as make_run

    warehouse = tmp_path / "data" / "warehouse.duckdb"
    monkeypatch.setenv(config.ENV_WAREHOUSE, str(warehouse))
    monkeypatch.setenv(setting, value)
    assert make_run.cli(command[0], command[1:]) == 1
    out = capsys.readouterr()
    assert out.err.startswith(f"error: {message}") and len(out.err.strip().splitlines()) == 1
    assert "Source:" not in out.out
    assert not warehouse.parent.exists()


def test_the_transform_dag_dbt_build_fails_with_the_price_message(monkeypatch, tmp_path):
    """dbt_runner.build (the DAG's dbt task) returns a failed result whose summary is the reason."""
    from copilot_warehouse.transform import dbt_runner

    monkeypatch.setenv(config.ENV_PRICE_PER_AI_CREDIT, "abc")
    result = dbt_runner.build(tmp_path / "warehouse.duckdb", target_path=tmp_path / "target")
    assert not result.success
    assert result.summary == (
        "dbt build: not started: COPILOT_PRICE_PER_AI_CREDIT_USD must be a number from 0 to "
        "1000000, got 'abc'"
    )
    assert not (tmp_path / "warehouse.duckdb").exists()
