"""Security headers on every response, in one place.

The content security policy allows scripts and styles only from this site: no inline script, no
inline style, no CDN. The one exception is GOV.UK Frontend's page template, whose first line in
<body> is an inline script that adds the `js-enabled` and `govuk-frontend-supported` classes
before the page paints (the Frontend's components start only when the second class is there). The
template prints a nonce on that script when it is given `cspNonce`, so each page gets a fresh
random nonce and the policy names it; nothing else carries one.

Nothing but static files may be stored by a browser or a proxy: every other response (pages,
downloads, calendar feeds) says `no-store`. Most show personal data, and even the public pages
change with who is signed in and carry a nonce that must not be served twice.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g, request

HSTS_SECONDS = 365 * 24 * 60 * 60


def csp_nonce() -> str:
    """This response's nonce for the page template's inline script (one per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str | None) -> str:
    """The policy: this site only, no inline script or style, no framing, no plugins."""
    script = "script-src 'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join([
        "default-src 'none'",
        script,
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(g.get("csp_nonce"))
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin: a page whose address holds a secret (a reset or evaluation link) never hands
    # it to another site, and Flask-WTF's HTTPS referrer check still sees our own pages.
    headers["Referrer-Policy"] = "same-origin"
    if current_app.config["ENV_NAME"] == "production":
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}; includeSubDomains"
    if request.path.startswith("/api/") and "ETag" in headers:
        # An API answer is revalidated with its ETag (If-None-Match) and kept by no shared cache.
        headers["Cache-Control"] = "private, no-cache"
    elif request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        headers.pop("Last-Modified", None)
        headers.pop("ETag", None)
    return response


def init_app(app: Flask) -> None:
    """Give every template its nonce and every response the security headers."""
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
    app.after_request(_set_headers)
