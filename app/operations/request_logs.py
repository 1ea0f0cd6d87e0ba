"""One log line per request, and a failed request's traceback, on the `app.requests` logger.

The line holds the request's id, the method, the route as the app declares it
(`/sessions/<int:session_id>/book`, never the address as typed: addresses carry ids and the tokens
of e-mailed links) and its endpoint, the status, the time to the response in milliseconds and the
signed-in person's numeric id (or, for an API call, the token's numeric id). Never a query string, a form, a cookie, a name or an e-mail address.

Static files and health checks that succeed are logged at DEBUG: a page pulls several static
files and a load balancer polls /healthz every few seconds from each of its nodes, so at INFO they
would bury the requests people make. A static file or probe that fails is logged at INFO like any
other request.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from sqlalchemy import inspect

log = logging.getLogger("app.requests")
QUIET_ENDPOINTS = frozenset({"static", "operations.healthz", "operations.readyz"})
STARTED_KEY = "app.request_started"  # with the request, as its id is (app.operations.request_ids)


class LoggingFlask(Flask):
    """Flask, logging an unhandled exception with the request's id and route, not its address."""

    def log_exception(self, exc_info) -> None:
        log.error("exception", exc_info=exc_info, extra={"fields": _where()})


def _where() -> dict[str, object]:
    return {
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "endpoint": request.endpoint,
    }


def _user_id() -> int | None:
    """The signed-in person's id, if this request loaded them (every page does), without a query."""
    user = g.get("_login_user")  # where Flask-Login keeps the person it loaded for this request
    if user is None or user.is_anonymous:
        return None
    # The identity map's key: reading user.id could reload a person expired by the view's commit.
    identity = inspect(user).identity
    return identity[0] if identity else None


def _start() -> None:
    request.environ[STARTED_KEY] = time.perf_counter()


def _log(response: Response) -> Response:
    started = request.environ.get(STARTED_KEY)
    fields = _where()
    fields.update({
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "user_id": _user_id(),
    })
    if g.get("api_token_id") is not None:  # an API call: which token (its id, never the token)
        fields["api_token_id"] = g.api_token_id
    quiet = request.endpoint in QUIET_ENDPOINTS and response.status_code < 400
    log.log(logging.DEBUG if quiet else logging.INFO, "request", extra={"fields": fields})
    return response


def init_app(app: Flask) -> None:
    """Time every request from its first step and log it once its response is ready."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_log)
