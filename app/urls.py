"""Absolute links for e-mails and calendar files, and hiding the secret ones from onlookers."""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import current_app, has_request_context, url_for
from werkzeug.exceptions import HTTPException

# URL arguments that are secrets: whoever holds the link can use it (reset a password, answer an
# evaluation, agree to a booking, read someone's calendar). Every such route names it `token`.
SECRET_ARGUMENTS = frozenset({"token"})
HIDDEN = "[hidden]"
_LINK = re.compile(r"""\b(?:https?|webcal)://[^\s"'<>]+""", re.I)
_SECRET_QUERY = re.compile(r"(?<=[?&;])(%s)=[^&#\s\"'<>]*" % "|".join(sorted(SECRET_ARGUMENTS)), re.I)


def external_url(endpoint: str, **values) -> str:
    """Build an absolute URL on BASE_URL, inside a request or not (jobs have none).

    Outside a request the app's URL map is bound directly: a pushed request context would run the
    request teardown hooks when it is popped, in the middle of the job that asked for a link.
    """
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        current_app.inject_url_defaults(endpoint, values)
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def _secrets_in_path(path: str) -> list[str]:
    adapter = current_app.url_map.bind("localhost")
    try:
        _endpoint, values = adapter.match(unquote(path), method="GET")
    except HTTPException:  # no route, or a redirect (RequestRedirect): not one of our secret links
        return []
    return [str(value) for name, value in values.items() if name in SECRET_ARGUMENTS and value]


def _mask_link(match: re.Match) -> str:
    link = match.group(0)
    parts = urlsplit(link)
    site = link[: link.index(parts.netloc) + len(parts.netloc)]
    rest = link[len(site):]
    path, tail = unquote(parts.path), rest[len(parts.path):]
    for secret in _secrets_in_path(parts.path):
        path = path.replace(secret, HIDDEN)
    return site + path + _SECRET_QUERY.sub(lambda m: f"{m.group(1)}={HIDDEN}", tail)


def mask_secret_links(body: str) -> str:
    """Hide the secret in every secret link of this site in `body` (plain text or HTML).

    Administrators read copies of the mail in the outbox; only the recipient's mailbox should ever
    hold a link that works. Links are recognised by the routes they lead to (any route with a
    `token` argument), whatever host they were built on, so an old BASE_URL does not leak them.
    """
    return _LINK.sub(_mask_link, body or "")
