"""Keep tokens and signed download URLs out of logs, exception text and anything persisted.

GitHub report downloads are signed URLs whose query string is a bearer credential, and the API
token is one too. Everything the package logs or raises passes through :func:`redact`:

- values registered with :func:`register_secret` (the API token) become ``***``;
- any URL with a query string becomes ``scheme://host/path?<redacted>`` (also a bare
  ``/path?query`` as urllib3 writes it in its errors);
- credential-looking parameters anywhere (``signature=``, ``sig=``, ``token=``, ``X-Amz-*=``,
  ``se=``, ``sp=`` …) keep their name and lose their value;
- ``Authorization: …`` header values, ``Bearer …`` credentials and GitHub token shapes
  (``ghp_…``, ``github_pat_…`` …) are replaced.

:class:`RedactingFilter` applies this to log records; :func:`install_log_redaction` attaches it
to the root logger's handlers and to the package logger; :func:`get_logger` gives a module logger
that redacts its own records whatever handlers exist. :func:`register_secret` also hands the value
to Airflow's secrets masker when Airflow is already loaded in the process (a task or a hook), but
this module never imports Airflow itself, so plain scripts and tests stay fast.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from typing import TypeVar
from urllib.parse import quote, quote_plus

REDACTED = "<redacted>"
MASK = "***"
PACKAGE_LOGGER = "copilot_warehouse"

# Library loggers that write full request URLs (query strings included) at DEBUG level.
LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.response", "urllib3.util.retry", "requests")

# Values shorter than this are not registered: masking "a" or "1" would shred every message.
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_re: re.Pattern[str] | None = None

# scheme://host[:port]/path?query#fragment  ->  scheme://host[:port]/path?<redacted>
_URL_QUERY_RE = re.compile(r"""(?P<base>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#"'<>`]+)[?#][^\s"'<>`]*""")
# urllib3 writes "Max retries exceeded with url: /downloads/x?expires=..&signature=.." (no host).
_PATH_QUERY_RE = re.compile(r"""(?P<base>(?<![\w/:.])/[^\s?#"'<>`]*)\?[^\s"'<>`)]*""")
# Credential-looking parameters anywhere in a text (query strings that lost their URL, form
# bodies, dict reprs). The name is kept so the message stays readable.
_SENSITIVE_PARAM_RE = re.compile(
    r"""(?i)(?P<name>\b(?:signature|sig|token|access_token|refresh_token|id_token|client_secret|"""
    r"""password|passwd|secret|api_key|apikey|se|sp|sv|skoid|sktid|skt|ske|sks|skv|"""
    r"""x-amz-[a-z0-9-]+|x-goog-[a-z0-9-]+))=(?P<value>[^&\s"'<>`,;)]+)"""
)
# "Authorization: token abc", "'Authorization': 'Bearer abc'", "authorization=abc"
_AUTH_HEADER_RE = re.compile(
    r"""(?i)(?P<name>\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?P<value>[^"'\r\n,}]+)"""
)
_BEARER_RE = re.compile(r"""(?i)\b(?P<name>bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]+)""")
# GitHub token formats: classic/oauth/user/server/refresh tokens and fine-grained PATs.
_GITHUB_TOKEN_RE = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b")


def _variants(value: str) -> set[str]:
    """The forms a secret may take in text: as is, URL-quoted and form-quoted."""
    return {value, quote(value, safe=""), quote_plus(value)}


def _rebuild_secret_re() -> None:
    global _secret_re
    forms: set[str] = set()
    for value in _secrets:
        forms |= _variants(value)
    # Longest first so a secret containing another one is masked whole.
    ordered = sorted(forms, key=len, reverse=True)
    _secret_re = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None


def register_secret(value: object, *, name: str | None = None) -> bool:
    """Remember ``value`` as a secret: :func:`redact` will replace it with ``***`` from now on.

    When Airflow's task SDK is already loaded in this process (inside a task or when a hook is
    used), the value is also given to Airflow's secrets masker so Airflow's own task logs hide
    it. Airflow is never imported just for this.

    Args:
        value: the secret (a token). ``None``, empty and very short values are ignored.
        name: an optional label for Airflow's masker.

    Returns:
        True if the value was registered.
    """
    if not isinstance(value, str):
        return False
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return False
    with _lock:
        if value not in _secrets:
            _secrets.add(value)
            _rebuild_secret_re()
    _mask_in_airflow(value, name)
    return True


def _mask_in_airflow(value: str, name: str | None) -> None:
    """Give ``value`` to Airflow's secrets masker if Airflow is already imported."""
    if "airflow.sdk" not in sys.modules:
        return
    try:
        from airflow.sdk.log import mask_secret  # Airflow 3.x task SDK

        mask_secret(value, name)
    except Exception:  # noqa: S110 - masking in Airflow is a bonus; our own redaction still applies
        pass


def clear_secrets() -> None:
    """Forget every registered secret (for tests)."""
    global _secret_re
    with _lock:
        _secrets.clear()
        _secret_re = None


def redact(text: object) -> str:
    """Return ``text`` (or ``str(text)``) with secrets, signed-URL queries and credentials removed.

    Args:
        text: any text: a log message, an exception message, a header dump.

    Returns:
        The text with registered secrets replaced by ``***``, URL query strings by
        ``?<redacted>``, credential parameter values, ``Authorization`` values, ``Bearer``
        credentials and GitHub-token-shaped strings by ``<redacted>``.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if not s:
        return s
    pattern = _secret_re
    if pattern is not None:
        s = pattern.sub(MASK, s)
    s = _URL_QUERY_RE.sub(lambda m: f"{m.group('base')}?{REDACTED}", s)
    s = _PATH_QUERY_RE.sub(lambda m: f"{m.group('base')}?{REDACTED}", s)
    s = _SENSITIVE_PARAM_RE.sub(lambda m: f"{m.group('name')}={REDACTED}", s)
    s = _AUTH_HEADER_RE.sub(lambda m: f"{m.group('name')}{REDACTED}", s)
    s = _BEARER_RE.sub(lambda m: f"{m.group('name')}{REDACTED}", s)
    s = _GITHUB_TOKEN_RE.sub(REDACTED, s)
    return s


def redact_url(url: str) -> str:
    """Return ``url`` without its query string and fragment: safe to log (``…?<redacted>``)."""
    return redact(url)


E = TypeVar("E", bound=BaseException)


def redacted_error(exc_type: type[E], message: object, *args: object) -> E:
    """Build ``exc_type(redacted message, *args)``: an exception whose text is safe to show.

    Args:
        exc_type: the exception class to build.
        message: the message; it is passed through :func:`redact`.
        *args: further positional arguments for the exception class.

    Returns:
        The exception instance (raise it with ``raise redacted_error(...) from None`` when the
        original exception's text may carry a secret).
    """
    return exc_type(redact(message), *args)


def exception_text(exc: BaseException) -> str:
    """``"<ExceptionType>: <redacted message>"`` for an exception from a library we call."""
    return f"{type(exc).__name__}: {redact(exc)}"


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's message, arguments, traceback and stack.

    The record is rewritten in place (``msg`` becomes the redacted, fully formatted message and
    ``args`` is cleared), so every handler and formatter after it sees only redacted text. It
    never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place and keep it."""
        if getattr(record, "_copilot_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            formatted = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            # Formatters print exc_text when it is set; the original exception object no longer
            # reaches any handler (its message may carry a signed URL).
            record.exc_text = redact(formatted)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._copilot_redacted = True
        return True


_FILTER = RedactingFilter()


def _attach(targets: Iterable[logging.Filterer]) -> int:
    added = 0
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(_FILTER)
            added += 1
    return added


def install_log_redaction(extra_loggers: Iterable[str] = ()) -> int:
    """Attach :class:`RedactingFilter` where records are emitted. Safe to call repeatedly.

    Attaches to every handler of the root logger (this covers records propagated from any
    logger, e.g. urllib3's debug lines that carry full URLs), to the ``copilot_warehouse``
    logger and every existing ``copilot_warehouse.*`` logger, and to ``extra_loggers`` and their
    handlers. Handlers added later (a test's ``caplog``, Airflow's task handler) need another
    call; module loggers from :func:`get_logger` redact regardless.

    Args:
        extra_loggers: more logger names to protect (e.g. ``"urllib3"``).

    Returns:
        How many handlers and loggers got the filter in this call.
    """
    root = logging.getLogger()
    added = _attach(root.handlers)
    names = [PACKAGE_LOGGER, *LIBRARY_LOGGERS, *extra_loggers]
    names += [
        name for name in list(logging.Logger.manager.loggerDict) if name.startswith(PACKAGE_LOGGER + ".")
    ]
    for name in names:
        logger = logging.getLogger(name)
        added += _attach([logger])
        added += _attach(logger.handlers)
    return added


def protect_loggers(names: Iterable[str] = LIBRARY_LOGGERS) -> None:
    """Put a :class:`RedactingFilter` on the named loggers themselves.

    urllib3 logs every request line with its full URL at DEBUG level; a filter on the logger
    that creates those records redacts them before any handler (or a later logging setup) sees
    them. The client calls this on import.
    """
    for name in names:
        _attach([logging.getLogger(name)])


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with a :class:`RedactingFilter` on the logger itself.

    Logger filters run before any handler sees the record, so whatever the logging setup
    (pytest's caplog, Airflow's task log handler, a plain ``basicConfig``) the text is redacted.
    """
    logger = logging.getLogger(name)
    _attach([logger])
    return logger
