"""The OpenAPI 3.1 document, generated from the code: each API view declares its operation with
`@operation(...)` (its parameters and answer as app.api.schemas classes), and `document()` walks
the app's URL map for those views, so an endpoint cannot be served without being described, nor
described without being served. apispec's marshmallow plugin turns the schemas into JSON Schema."""
from __future__ import annotations

import re
from collections.abc import Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app

from app.api import schemas
from app.api.tokens import SCOPES

VERSION = "1.0.0"
_ARGUMENT = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
# The problems every authenticated operation may answer with, and what each means here.
ERRORS = {
    "400": "Bad parameters, or a body that is not what the operation reads (see `errors`).",
    "401": "No token, or a token that is not valid, has expired or was revoked (see WWW-Authenticate).",
    "403": "The token lacks the scope this operation needs.",
    "406": "The request does not accept application/json.",
    "412": "If-Match did not match the current ETag.",
    "429": "Too many requests with this token: wait Retry-After seconds.",
}


def operation(*, summary: str, description: str, tag: str, response: type, query: type | None = None,
              body: type | None = None, path_parameters: dict[str, str] | None = None,
              not_found: bool = False, example: dict | None = None, ok: str | None = "OK",
              created: str | None = None, problems: dict[str, str] | None = None,
              body_example: dict | None = None) -> Callable[[Callable], Callable]:
    """Describe an API view for the OpenAPI document (the view's scope comes from token_required,
    its method from its route; `body`: the schema of a write's JSON body). A write (POST, DELETE)
    has no ETags: `ok` and `created` describe its 200 and 201 (None: it has no such answer), and
    `problems` the statuses it adds to the usual ones (409, 413, 422), each with what it means;
    `body_example`: a body to show (the reference page's curl sends it)."""

    def decorator(view: Callable) -> Callable:
        view.api_operation = {
            "summary": summary, "description": description, "tag": tag, "response": response,
            "query": query, "body": body, "path_parameters": path_parameters or {},
            "not_found": not_found, "example": example, "ok": ok, "created": created,
            "problems": problems or {}, "body_example": body_example,
        }
        return view

    return decorator


def _problem(description: str, headers: dict | None = None) -> dict:
    answer = {"description": description,
              "content": {"application/problem+json": {"schema": "Problem"}}}
    if headers:
        answer["headers"] = headers
    return answer


def _reading(described: dict, parameters: list) -> dict:
    """A read's answers: 200 with an ETag (and Link for a page), 304, and the usual problems."""
    parameters += [
        {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
         "description": "An ETag from an earlier answer: 304 with no body if nothing changed."},
        {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
         "description": "Answer only if the current ETag is one of these (412 otherwise)."},
    ]
    ok = {"description": described["ok"], "content": {"application/json": {"schema": described["response"]}},
          "headers": {"ETag": {"schema": {"type": "string"}, "description": "The answer's version."}}}
    if described["example"] is not None:
        ok["content"]["application/json"]["example"] = described["example"]
    if issubclass(described["response"], schemas.PageMeta):
        ok["headers"]["Link"] = {"schema": {"type": "string"},
                                 "description": "RFC 8288 links to the first, last, next and previous pages."}
    return {"200": ok, "304": {"description": "Not modified: the If-None-Match ETag is current.",
                               "headers": {"ETag": {"schema": {"type": "string"}}}}}


def _writing(described: dict) -> dict:
    """A write's answers: 200 and/or 201 with what it did (no ETag, no conditions)."""
    content = {"application/json": {"schema": described["response"]}}
    answers = {}
    if described["ok"]:
        answers["200"] = {"description": described["ok"], "content": content}
    if described["created"]:
        answers["201"] = {"description": described["created"], "content": content}
    return answers


def _operation(view, scope: str, method: str = "get") -> dict:
    described = view.api_operation
    parameters = [{"in": "path", "name": name, "required": True, "description": text,
                   "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_PAGE}}
                  for name, text in described["path_parameters"].items()]
    if described["query"] is not None:
        parameters.append({"in": "query", "schema": described["query"]})
    reads = method == "get"
    responses = _reading(described, parameters) if reads else _writing(described)
    for status, text in ERRORS.items():
        if status == "412" and not reads:
            continue
        headers = None
        if status == "401":
            headers = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == "429":
            headers = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}}
        responses[status] = _problem(text, headers)
    if described["not_found"]:
        responses["404"] = _problem("There is no such item, or the token may not see it.")
    for status, text in described["problems"].items():
        responses[status] = _problem(text)
    answer = {
        "summary": described["summary"], "description": described["description"],
        "tags": [described["tag"]], "operationId": view.__name__, "parameters": parameters,
        "security": [{"bearer": [scope]}], "responses": dict(sorted(responses.items())),
    }
    if described["body"] is not None:
        content = {"schema": described["body"]}
        if described["body_example"] is not None:
            content["example"] = described["body_example"]
        answer["requestBody"] = {"required": True, "content": {"application/json": content}}
    return answer


def api_views(app: Flask):
    """(path as OpenAPI writes it, view, scope, method) for each described API view, in path order."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "api_operation", None) is not None:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((_ARGUMENT.sub(r"{\1}", rule.rule), view, view.api_scope, method.lower()))
    return sorted(found, key=lambda item: (item[0], item[3]))


def document(app: Flask | None = None) -> dict:
    """The OpenAPI 3.1 document for this app's API."""
    app = app or current_app
    spec = APISpec(
        title=f"{app.config['SERVICE_NAME']} API", version=VERSION, openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": (
            f"Read the {app.config['PARTNERSHIP_NAME']}'s programme and, for one agency, its staff's "
            "bookings, attendance, completions, certificates, charges and refreshers; record the "
            "agency's staff's e-learning completions in bulk, and book or cancel places for them "
            "where the agency's coordinator may. Every call sends "
            "a token created by the agency's coordinator: `Authorization: Bearer sgt_...`. Lists come a "
            "page at a time (`page`, `page_size`, links to the others) and narrow by `from`, `to` and "
            "`changed_since`. Answers carry an ETag; send it back as If-None-Match to get 304 when "
            "nothing changed. Errors are RFC 9457 problem details.")},
        servers=[{"url": app.config["BASE_URL"]}],
    )
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "A token from the agency's API tokens page. Scopes: " + "; ".join(
            f"`{name}`: {text}" for name, text in SCOPES.items()),
    })
    spec.components.schema("Problem", schema=schemas.Problem)
    operations: dict[str, dict] = {}
    for path, view, scope, method in api_views(app):
        operations.setdefault(path, {})[method] = _operation(view, scope, method)
    for path, described in operations.items():
        spec.path(path=path, operations=described)
    return spec.to_dict()
