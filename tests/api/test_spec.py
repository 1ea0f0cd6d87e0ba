"""The OpenAPI document: valid OpenAPI 3.1, describing every API view, and true of the live API:
Schemathesis calls each operation with generated parameters and headers (a fixed budget of examples,
seeded) and fails on any 500 or any answer the document does not describe."""
from __future__ import annotations

import re

import hypothesis
import schemathesis
from markupsafe import escape
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api.spec import api_views
from app.api.tokens import SCOPES, create_token
from app.extensions import db


def test_the_document_is_valid_openapi_3_1_and_describes_every_api_view(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert document["openapi"] == "3.1.0"
    served = sorted(rule.rule for rule in app.url_map.iter_rules()
                    if rule.rule.startswith("/api/v1/") and "<path:" not in rule.rule
                    and rule.endpoint not in ("api.openapi_document", "api.reference"))
    described = sorted(re.sub(r"\{(\w+)\}", r"<int:\1>", path) for path, _v, _s, _m in api_views(app))
    assert served == described
    assert set(document["paths"]) == {path for path, _v, _s, _m in api_views(app)}


def test_the_reference_page_lists_every_operation_from_local_files(world, client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for path, view, _scope, method in api_views(client.application):
        assert f"{method.upper()} {path}" in page and escape(view.api_operation["summary"]) in page
    assert "https://" not in page.split("<body", 1)[1].replace(client.application.config["BASE_URL"], "")


def test_the_live_api_keeps_to_its_document(world, app):
    # Each operation in turn, through the WSGI app, with a token for agency A holding every scope, so
    # the writes are exercised too (their generated rows name no agency's domain and no online
    # course, and their ids no person or session, so the 40 examples each record next to nothing).
    # Driven by hand rather than by schemathesis.pytest, whose fixture loader does not run under pytest 9.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(api_views(app))
    token = create_token(world.agencies["a"], name="Every scope", scopes=list(SCOPES), days=30,
                         actor=world.people["a"].coordinator).secret
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    calls = []

    for operation in operations:
        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=40, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def keeps_to_document(case):
            # Not "schema-valid requests are accepted": a valid If-Match that does not match is a 412,
            # and `from` after `to` a 400, as the document says; every other check runs.
            response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500
            calls.append((operation.method, operation.path, response.status_code))

        keeps_to_document()
    statuses = [status for _method, _path, status in calls]
    assert 200 in statuses and len(calls) >= 5 * len(operations)
    # Every operation, the writes too, got past its token and its parameters at least once.
    ran = {(method, path) for method, path, status in calls if status not in (400, 401, 403)}
    assert ran == {(o.method, o.path) for o in operations}
