"""Reading an API request's parameters (or a write's JSON body) and writing its answer: a page of
items with links, an ETag, and If-None-Match (304) and If-Match (412); a write's answer plainly."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, abort, json, request
from marshmallow import Schema, ValidationError

from app.api.problems import problem

JSON = "application/json"


def parameters(schema: type[Schema]) -> dict:
    """The query string read by `schema`; a 400 problem naming each bad parameter otherwise."""
    try:
        return schema().load(request.args.to_dict())
    except ValidationError as error:
        messages = {name: [str(m) for m in (found if isinstance(found, list) else [found])]
                    for name, found in error.normalized_messages().items()}
        abort(problem(400, "Some parameters are not valid: " + ", ".join(sorted(messages)) + ".",
                      errors=messages))


def _flat(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as one list per path: {"rows.2.email": [...]}."""
    if isinstance(messages, dict):
        found: dict[str, list[str]] = {}
        for key, inner in messages.items():
            found.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return found
    return {prefix or "body": [str(m) for m in (messages if isinstance(messages, list) else [messages])]}


def body(schema: type[Schema]) -> dict:
    """A write's JSON body read by `schema`; a 400 problem naming each bad field otherwise."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(problem(400, "Send a JSON object as the body (Content-Type: application/json).",
                      errors={"body": ["Not a JSON object."]}))
    try:
        return schema().load(data)
    except ValidationError as error:
        messages = _flat(error.normalized_messages())
        abort(problem(400, "Some fields are not valid: " + ", ".join(sorted(messages)) + ".",
                      errors=messages))


def written(schema: type[Schema], data: dict, status: int = 200) -> Response:
    """A write's answer through its schema (no ETag: it says what this call did)."""
    return Response(json.dumps(schema().dump(data), sort_keys=True), status=status, mimetype=JSON)


def accepts_json() -> bool:
    """Whether the caller accepts the answer (asked before a write, so a 406 changes nothing)."""
    return not request.accept_mimetypes or bool(request.accept_mimetypes.best_match([JSON]))


@dataclass
class Page:
    items: list
    page: int
    page_size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.page_size))


def page_of(rows: Sequence, page: int, page_size: int) -> Page:
    start = (page - 1) * page_size
    return Page(list(rows[start:start + page_size]), page, page_size, len(rows))


def _page_url(number: int) -> str:
    values = request.args.to_dict()
    values["page"] = str(number)
    return f"{request.path}?{urlencode(values)}"


def paged(found: Page, show: Callable) -> tuple[dict, dict]:
    """The body of a page of items (each through `show`) and its Link header."""
    links = {
        "self": _page_url(found.page), "first": _page_url(1), "last": _page_url(found.last),
        "next": _page_url(found.page + 1) if found.page < found.last else None,
        "prev": _page_url(min(found.page - 1, found.last)) if found.page > 1 else None,
    }
    body = {"data": [show(item) for item in found.items], "page": found.page,
            "page_size": found.page_size, "total": found.total, "links": links}
    header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self")
    return body, {"Link": header}


def answer(schema: type[Schema], body: dict, headers: dict | None = None) -> Response:
    """The body as JSON through its schema, with an ETag; 304 or 412 as the request's conditions say."""
    if request.accept_mimetypes and not request.accept_mimetypes.best_match([JSON]):
        return problem(406)
    text = json.dumps(schema().dump(body), sort_keys=True)
    etag = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    if request.if_match and not (request.if_match.star_tag or request.if_match.contains(etag)):
        return problem(412)
    if request.if_none_match and (request.if_none_match.star_tag or request.if_none_match.contains(etag)):
        response = Response(status=304)
    else:
        response = Response(text, mimetype=JSON)
        for name, value in (headers or {}).items():
            if value:
                response.headers[name] = value
    response.set_etag(etag)
    return response
