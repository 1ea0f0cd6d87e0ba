"""How the app's log lines are written: one line each, JSON or key=value, with the request's or job run's id.

Every logger under `app` (app.requests, app.jobs, app.email...) writes through one handler to
standard error, so a line from deep inside a request carries that request's id, and one from inside
a job carries the run's id. The handler is installed once per process however many apps are built
(each gunicorn worker builds one; the tests build hundreds), and the `app` logger does not pass its
lines on to the root logger, so a logging set-up of gunicorn's or anyone else's never prints them
twice. Other libraries' warnings go through a second handler on the root logger, in the same
format, unless the root logger already has a handler of someone else's.

What is logged is chosen by the callers: ids, counts, routes and codes, never names, e-mail
addresses, tokens, query strings or form contents. Tracebacks are Python's own, without locals;
what a database error quotes of the data (PostgreSQL's DETAIL: "Key (email)=(...) already exists",
"Failing row contains (...)") is hidden, as is anything shaped like an e-mail address, since an
exception's text is not chosen by us. The statements' values are left out of database errors by
the engine (hide_parameters, config.py).
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from flask import Flask, has_request_context
from flask.logging import default_handler

from app.jobs import current_run_id
from app.operations.request_ids import request_id

FORMATS = ("text", "json")
# A key=value value that needs no quotes.
_BARE = re.compile(r"[^\s\"=\\]+\Z")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_DETAIL = re.compile(r"^(DETAIL:\s+)(.*)$", re.MULTILINE)
_KEY = re.compile(r"(Key \([^)]*\)=)\(.*\)(.*)$")


def redact(text: str) -> str:
    """Hide what a database error quotes of the data, and anything shaped like an e-mail address."""
    return _EMAIL.sub("[e-mail address]", _DETAIL.sub(_hide_detail, text))


def _hide_detail(match: re.Match) -> str:
    key = _KEY.match(match.group(2))  # keep which columns clashed, not their values
    return match.group(1) + (f"{key.group(1)}([hidden]){key.group(2)}" if key else "[hidden]")


def _context(record: logging.LogRecord) -> dict[str, object]:
    """The line's fixed fields: when, how serious, from where, and the request or job run it is part of."""
    fields: dict[str, object] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname,
        "logger": record.name,
    }
    for name in ("request_id", "run_id"):
        value = getattr(record, name, None)
        if value:
            fields[name] = value
    return fields


def _fields(record: logging.LogRecord) -> dict[str, object]:
    """Everything on the line but the traceback, in a fixed order."""
    fields = _context(record)
    fields["message"] = redact(record.getMessage())
    for name, value in (getattr(record, "fields", None) or {}).items():
        fields.setdefault(name, value)
    return fields


class _Formatter(logging.Formatter):
    def formatException(self, ei) -> str:
        return redact(super().formatException(ei))


class JsonFormatter(_Formatter):
    """One JSON object a line; a traceback goes in `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, default=str, ensure_ascii=False)


class KeyValueFormatter(_Formatter):
    """key=value pairs on one line (values with spaces or quotes are quoted); a traceback follows it."""

    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(f"{name}={_text(value)}" for name, value in _fields(record).items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        value = ", ".join(f"{count} {label}" for label, count in value.items())
    text = str(value)
    return text if _BARE.match(text) else json.dumps(text, ensure_ascii=False)


class _ContextFilter(logging.Filter):
    """Put the request's id, or the job run's, on every line logged while it is under way."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = request_id()
        if not hasattr(record, "run_id"):
            record.run_id = current_run_id()
        return True


class _Handler(logging.StreamHandler):
    """The app's handler: writes to whatever standard error is at the time, as Python's own last
    resort does (a handler that kept the first one would write to a closed file once a test that
    captured it has ended)."""

    def __init__(self):
        super().__init__()
        self.addFilter(_ContextFilter())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def app_handler() -> _Handler | None:
    """The handler the app's lines go through, once configure() has run."""
    return next((h for h in logging.getLogger("app").handlers if isinstance(h, _Handler)), None)


def configure(app: Flask) -> None:
    """Send the app's lines, at LOG_LEVEL and in LOG_FORMAT, through one handler per process."""
    level = app.config["LOG_LEVEL"]
    if not isinstance(logging.getLevelName(level), int):
        raise RuntimeError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}.")
    if app.config["LOG_FORMAT"] not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be text or json, not {app.config['LOG_FORMAT']!r}.")
    formatter = JsonFormatter() if app.config["LOG_FORMAT"] == "json" else KeyValueFormatter()

    logger = logging.getLogger("app")
    logger.removeHandler(default_handler)  # Flask's own, in case app.logger was read before now
    handler = app_handler()
    if handler is None:
        handler = _Handler()
        logger.addHandler(handler)
    handler.setFormatter(formatter)
    logger.setLevel(level)
    logger.propagate = False

    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _Handler)]
    if not root.handlers:
        ours = [_Handler()]
        root.addHandler(ours[0])
    for other in ours:
        other.setFormatter(formatter)
        other.setLevel(max(logging.WARNING, logger.level))
