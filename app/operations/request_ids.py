"""Every request's id: in the X-Request-ID response header, on every log line and error page.

A load balancer or proxy that names its requests (nginx's $request_id, a cloud balancer's id) sends
the name in X-Request-ID, and the app keeps it, so one id follows the request through every log.
Anything else a client sends there (too short to be unique, too long, or with characters that could
break a log line or a page) is replaced by a new random id: 16 hex digits, short enough to read out
over the telephone from an error page.
"""
from __future__ import annotations

import re
import secrets

from flask import Flask, Response, has_request_context, request

HEADER = "X-Request-ID"
# Letters, digits and . _ - only, 8 to 64 of them: a UUID, a hex digest, nginx's $request_id fit.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}\Z")
ENVIRON_KEY = "app.request_id"


def request_id() -> str:
    """This request's id: the incoming X-Request-ID if it is a safe token, else a new one."""
    # Kept with the request itself: `g` outlives a request wherever an app context is held open
    # around several (a script, a shell, the tests).
    environ = request.environ
    if ENVIRON_KEY not in environ:
        incoming = request.headers.get(HEADER, "")
        environ[ENVIRON_KEY] = incoming if SAFE_ID.match(incoming) else secrets.token_hex(8)
    return environ[ENVIRON_KEY]


def _assign() -> None:
    request_id()


def _for_templates() -> dict[str, str | None]:
    # E-mails are drawn by the job runner, outside any request.
    return {"request_id": request_id() if has_request_context() else None}


def _send_back(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    """Give each request its id before anything else runs, return it, and show it to templates."""
    app.before_request_funcs.setdefault(None, []).insert(0, _assign)
    app.after_request(_send_back)
    app.context_processor(_for_templates)
