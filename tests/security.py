"""What every response must carry (app.security): shared by the tests that fetch pages and files."""
from __future__ import annotations

import re

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


def directives(response) -> dict[str, str]:
    """The response's content security policy as {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    return {name: rest.strip() for name, _, rest in
            (part.strip().partition(" ") for part in policy.split(";")) if name}


def assert_security_headers(response, no_store: bool = True) -> None:
    """The content security policy, framing, sniffing, referrer and (by default) no-store."""
    policy = directives(response)
    assert policy["default-src"] == "'none'"
    assert NONCE.sub("", policy["script-src"]).strip() == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    if no_store:
        assert response.headers["Cache-Control"] == "no-store"


def page_without_nonce(response) -> str:
    """The page's HTML with its per-request script nonce blanked, to compare two pages."""
    return re.sub(r'nonce="[A-Za-z0-9_-]+"', 'nonce=""', response.get_data(as_text=True))
