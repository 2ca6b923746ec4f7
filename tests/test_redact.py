"""Redaction: tokens, signed download URLs and credentials never reach logs or exception text."""

from __future__ import annotations

import logging

import pytest
from copilot_warehouse import redact as r

TOKEN = "ghs_Sup3rSecretInstallationToken0001"
SIGNED = "https://copilot-reports.github.com/r/part-1.ndjson?expires=1767225600&signature=c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def _fresh_registry():
    r.clear_secrets()
    yield
    r.clear_secrets()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            f"download {SIGNED} failed",
            "download https://copilot-reports.github.com/r/part-1.ndjson?<redacted> failed",
            id="signed URL keeps host and path, loses query",
        ),
        pytest.param(
            "http://127.0.0.1:8123/downloads/abc?expires=1&signature=ff#frag",
            "http://127.0.0.1:8123/downloads/abc?<redacted>",
            id="simulator URL with port and fragment",
        ),
        pytest.param(
            "Max retries exceeded with url: /downloads/abc?expires=1&signature=ff (Caused by Reset)",
            "Max retries exceeded with url: /downloads/abc?<redacted> (Caused by Reset)",
            id="urllib3 path-only URL",
        ),
        pytest.param(
            "query was expires=1&sig=abc&se=2026-01-01&sp=r&X-Amz-Signature=dead&X-Amz-Credential=AK",
            "query was expires=1&sig=<redacted>&se=<redacted>&sp=<redacted>"
            "&X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>",
            id="credential params without a URL",
        ),
        pytest.param(
            "token=abc123 and signature=zzz", "token=<redacted> and signature=<redacted>", id="token= param"
        ),
        pytest.param(
            "{'Authorization': 'Bearer abc.def', 'Accept': 'application/json'}",
            "{'Authorization': '<redacted>', 'Accept': 'application/json'}",
            id="Authorization in a header dict",
        ),
        pytest.param(
            "Authorization: token abc123", "Authorization: <redacted>", id="Authorization header line"
        ),
        pytest.param("sent Bearer abc.def-ghi", "sent Bearer <redacted>", id="bare Bearer credential"),
        pytest.param(
            "leaked ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 and github_pat_11ABCDEFG0123456789_abcdefghij",
            "leaked <redacted> and <redacted>",
            id="GitHub token shapes even when not registered",
        ),
        pytest.param(
            "the token lacks scope read:org; status_code=403 key=user_id",
            "the token lacks scope read:org; status_code=403 key=user_id",
            id="ordinary prose untouched",
        ),
        pytest.param("", "", id="empty"),
    ],
)
def test_redact_patterns(text, expected):
    assert r.redact(text) == expected


@pytest.mark.parametrize(
    "shown",
    [
        pytest.param("plain-token-value-42", id="as is"),
        pytest.param("plain-token%2Fvalue%2042", id="url-quoted"),
        pytest.param("plain-token%2Fvalue+42", id="form-quoted"),
    ],
)
def test_registered_secret_masked_in_all_its_forms(shown):
    r.register_secret("plain-token/value 42")
    r.register_secret("plain-token-value-42")
    assert r.redact(f"x {shown} y") == "x *** y"


def test_short_and_empty_values_are_not_registered():
    assert r.register_secret("") is False
    assert r.register_secret(None) is False
    assert r.register_secret("abc") is False
    assert r.redact("abc abc") == "abc abc"


def test_longer_secret_containing_a_shorter_one_is_masked_whole():
    r.register_secret("secret-one")
    r.register_secret("secret-one-and-more")
    assert r.redact("[secret-one-and-more]") == "[***]"


def test_redact_accepts_non_strings():
    r.register_secret(TOKEN)
    assert r.redact(ValueError(f"bad {TOKEN}")) == "bad ***"
    assert r.redact(None) == ""


def test_redacted_error_builds_a_safe_exception():
    r.register_secret(TOKEN)
    err = r.redacted_error(RuntimeError, f"GET {SIGNED} with {TOKEN} failed")
    assert isinstance(err, RuntimeError)
    assert TOKEN not in str(err)
    assert "signature" not in str(err)
    assert "copilot-reports.github.com/r/part-1.ndjson?<redacted>" in str(err)
    assert r.exception_text(ValueError(TOKEN)) == "ValueError: ***"


def _assert_clean(text: str) -> None:
    assert TOKEN not in text
    assert "c2lnbmF0dXJl" not in text
    assert "signature=" not in text


def test_get_logger_redacts_message_args_and_traceback(caplog):
    r.register_secret(TOKEN)
    log = r.get_logger("copilot_warehouse.test_redact_module")
    caplog.set_level(logging.DEBUG)
    try:
        raise ConnectionError(f"reset while reading {SIGNED}")
    except ConnectionError:
        log.exception("download with %s failed: %s", TOKEN, SIGNED)
    (record,) = [rec for rec in caplog.records if rec.name == "copilot_warehouse.test_redact_module"]
    _assert_clean(record.getMessage())
    _assert_clean(caplog.text)
    assert "download with *** failed" in record.getMessage()
    assert "ConnectionError: reset while reading" in caplog.text  # traceback kept, redacted
    assert record.exc_info is None and record.exc_text


def test_install_log_redaction_covers_other_loggers_through_root_handlers(caplog):
    r.register_secret(TOKEN)
    r.install_log_redaction()
    assert r.install_log_redaction() == 0, "a second call adds nothing"
    for handler in logging.getLogger().handlers:
        assert any(isinstance(f, r.RedactingFilter) for f in handler.filters)
    logging.getLogger("urllib3.poolmanager").warning(
        'https://copilot-reports.github.com:443 "GET /r/part-1.ndjson?expires=1&signature=abc HTTP/1.1" 200'
    )
    logging.getLogger("some.library").error("auth header was Bearer %s", TOKEN)
    assert "signature=abc" not in caplog.text
    assert '"GET /r/part-1.ndjson?<redacted> HTTP/1.1" 200' in caplog.text
    _assert_clean(caplog.text)
    assert "Bearer ***" in caplog.text


def test_filter_never_drops_records_and_survives_bad_format_args():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %d", ("not-a-number",), None)
    assert r.RedactingFilter().filter(record) is True
    assert "not-a-number" in record.getMessage()


def test_protected_library_logger_redacts_without_any_setup(caplog):
    """urllib3 logs full request URLs at DEBUG; the client protects that logger on import."""
    r.protect_loggers()
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "https",
        "h",
        443,
        "GET",
        "/d/x?expires=1&signature=abc",
        "HTTP/1.1",
        200,
        9,
    )
    assert caplog.records[-1].getMessage() == 'https://h:443 "GET /d/x?<redacted> HTTP/1.1" 200 9'
