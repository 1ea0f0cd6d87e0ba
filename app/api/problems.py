"""Errors from the API as RFC 9457 problem details (application/problem+json).

Every API error goes through `problem()`, and the app's error pages hand any request under /api/
to `problem_for()` (app/__init__.py), so the same status always comes as the same kind of body:
400 bad parameters, 401 no usable token (with WWW-Authenticate), 403 a scope the token lacks,
404, 405, 406 an Accept the API cannot answer, 412 If-Match, 429 with Retry-After, 503.
"""
from __future__ import annotations

import math
import time

from flask import Response, json, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.extensions import limiter

PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"
# Plain words for the statuses the API answers with (the title says what; `detail`, this case).
DETAILS = {
    400: "The request's parameters are not valid.",
    401: "Send a valid API token: Authorization: Bearer <token>.",
    403: "The token does not allow this.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    406: "The API answers in JSON only: accept application/json.",
    409: "The request conflicts with the rules.",
    412: "The resource does not match If-Match.",
    413: "The request is too large.",
    422: "The request cannot be processed.",
    429: "Too many requests with this token. Wait before trying again.",
    500: "Something went wrong. It has been logged.",
    503: "The service is not available just now. Try again shortly.",
}


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(status: int, detail: str | None = None, *, headers: dict | None = None,
            errors: dict | None = None, rule: str | None = None) -> Response:
    """A problem details response with this status."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, HTTP_STATUS_CODES.get(status, "Error")),
    }
    if errors:
        body["errors"] = errors
    if rule:
        body["rule"] = rule  # which rule refused a write (409), in a word
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _retry_after() -> str:
    current = limiter.current_limit
    if current is None:
        return "60"
    return str(max(1, math.ceil(current.reset_at - time.time())))


def problem_for(error) -> Response:
    """The problem details for an error raised while serving an API request."""
    if isinstance(error, HTTPException) and error.response is not None:
        return error.response  # already a problem (app.api.answers.parameters)
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    headers = {}
    if status == 429:
        headers["Retry-After"] = _retry_after()
    elif status == 405 and isinstance(error, HTTPException):
        allowed = error.get_headers()
        headers.update({k: v for k, v in allowed if k.lower() == "allow"})
    elif status == 503:
        headers["Retry-After"] = "30"
    elif status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    detail = None
    if status not in (500, 503, 429) and isinstance(error, HTTPException):
        described = getattr(error, "api_detail", None)
        detail = described or None
    return problem(status, detail, headers=headers)
