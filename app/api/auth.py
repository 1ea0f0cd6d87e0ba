"""Who is calling the API: the bearer token of an agency's system, checked on every call.

A call without a usable token gets 401 with WWW-Authenticate (RFC 6750); a token without the
scope an endpoint needs gets 403 (error="insufficient_scope"). Nothing is read from cookies: the
API answers the token alone, so a signed-in browser gains nothing here and no session is set.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from app.accounts.access import ANYONE
from app.api.models import ApiToken
from app.api.problems import problem
from app.api.tokens import token_for
from app.clock import utcnow
from app.extensions import csrf, limiter

_UNSET = object()


def presented_token() -> ApiToken | None:
    """The token this request presents, if it is one the API issued (any state), read once."""
    token = g.get("api_token_presented", _UNSET)
    if token is _UNSET:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        token = token_for(secret.strip()) if scheme.lower() == "bearer" and secret.strip() else None
        g.api_token_presented = token
        if token is not None:
            # The request log's line names the token by id (never its secret), app.operations.request_logs.
            g.api_token_id = token.id
    return token


def rate_key() -> str:
    """Limits count per token; a call without a token it issued counts against its client address."""
    token = presented_token()
    return f"api-token:{token.id}" if token is not None else f"api-client:{get_remote_address()}"


def _unauthorised(description: str | None) -> object:
    challenge = 'Bearer realm="api"'
    if description:
        challenge += f', error="invalid_token", error_description="{description}"'
    return problem(401, (description + ".") if description else None,
                   headers={"WWW-Authenticate": challenge})


def token_required(scope: str) -> Callable[[Callable], Callable]:
    """Serve the view only to a current token holding `scope` (as g.api_token), limited per token."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            token = presented_token()
            if not header:
                return _unauthorised(None)
            if token is None:
                return _unauthorised("The token is not one this service issued")
            if token.revoked_at is not None:
                return _unauthorised("The token was revoked")
            if token.expires_at <= utcnow():
                return _unauthorised("The token has expired")
            if scope not in token.scope_list:
                return problem(403, f"The token does not have the {scope} scope.", headers={
                    "WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'})
            g.api_token = token
            return view(*args, **kwargs)

        # Bearer tokens only, never cookies: a cross-site form cannot act with them, so no CSRF token.
        limited = limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_key)(
            csrf.exempt(wrapped))
        # The web's roles do not apply: the token decides (app.accounts.access, tests of every view).
        limited.allowed_roles = ANYONE
        limited.api_scope = scope
        return limited

    return decorator
