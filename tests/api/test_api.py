"""The read API: what a token sees (its own agency, never another's), the problems it gets, paging,
narrowing and ETags, and the access log and request log it leaves."""
from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from app.access_log import AccessLogEntry
from app.api.models import ApiToken
from app.clock import utcnow
from app.extensions import db

AGENCY_ENDPOINTS = ("bookings", "completions", "certificates", "charges", "refreshers")


def _people(body) -> set[int]:
    return {item["person"]["id"] for item in body["data"]}


@pytest.mark.parametrize("resource", AGENCY_ENDPOINTS)
def test_a_token_reads_its_own_agency_and_never_another(world, call, resource):
    for key, other in (("a", "b"), ("b", "a")):
        response = call(f"/api/v1/agency/{resource}", world.tokens[key])
        assert response.status_code == 200, response.get_data(as_text=True)
        seen = _people(response.json)
        assert seen, resource
        own = {p.id for p in vars(world.people[key]).values()}
        theirs = {p.id for p in vars(world.people[other]).values()}
        assert seen <= own and not seen & theirs


def test_each_resource_holds_what_the_coordinator_sees(world, call):
    a = world.people["a"]
    bookings = call("/api/v1/agency/bookings", world.tokens["a"]).json
    assert bookings["total"] == 3
    marked = {(b["person"]["id"], b["attendance"]) for b in bookings["data"] if b["session"]["id"] == world.past.id}
    assert marked == {(a.attendee.id, "attended"), (a.absentee.id, "did_not_attend")}
    certificates = call("/api/v1/agency/certificates", world.tokens["a"]).json["data"]
    assert [(c["code"], c["person"]["id"]) for c in certificates] == [("CERT-A-0001", a.attendee.id)]
    assert certificates[0]["verify_url"].endswith("/certificates/verify?code=CERT-A-0001")
    charges = call("/api/v1/agency/charges", world.tokens["a"]).json["data"]
    assert [(c["person"]["id"], c["amount_pence"], c["status"]) for c in charges] == [(a.absentee.id, 5000, "due")]
    refreshers = call("/api/v1/agency/refreshers", world.tokens["a"]).json["data"]
    assert [(r["person"]["id"], r["due_on"], r["state"]) for r in refreshers] == [
        (a.attendee.id, "2026-10-15", "due_soon")]
    completions = call("/api/v1/agency/completions", world.tokens["a"]).json["data"]
    assert {c["completed_on"] for c in completions} >= {"2025-10-15"}


def test_the_programme_lists_published_sessions_to_come(world, call):
    body = call("/api/v1/sessions", world.tokens["a"]).json
    assert [s["id"] for s in body["data"]] == [world.upcoming.id]
    session = body["data"][0]
    assert session["course"]["code"] == "SG3" and session["places_left"] == 18
    assert session["starts_at"] == "2026-11-05T09:00:00Z"
    assert call(f"/api/v1/sessions/{world.upcoming.id}", world.tokens["a"]).json["id"] == world.upcoming.id
    drafts = call(f"/api/v1/sessions/{world.upcoming.id + 1}", world.tokens["a"])
    assert drafts.status_code == 404 and drafts.mimetype == "application/problem+json"


def test_paging_links_and_narrowing(world, call):
    token = world.tokens["a"]
    first = call("/api/v1/agency/bookings?page_size=2", token)
    body = first.json
    assert (body["total"], len(body["data"]), body["links"]["prev"]) == (3, 2, None)
    assert body["links"]["next"] == "/api/v1/agency/bookings?page_size=2&page=2"
    assert 'rel="next"' in first.headers["Link"]
    second = call(body["links"]["next"], token).json
    assert len(second["data"]) == 1 and second["links"]["next"] is None
    assert {b["id"] for b in body["data"]}.isdisjoint({b["id"] for b in second["data"]})
    assert call("/api/v1/agency/bookings?from=2026-11-01", token).json["total"] == 1
    assert call("/api/v1/agency/bookings?to=2026-07-01", token).json["total"] == 2
    assert call("/api/v1/agency/bookings?changed_since=2026-09-30T00:00:00Z", token).json["total"] == 3
    assert call("/api/v1/agency/bookings?changed_since=2026-10-01T10:00:00%2B01:00", token).json["total"] == 3
    assert call("/api/v1/agency/bookings?changed_since=2026-10-02T00:00:00Z", token).json["total"] == 0
    assert call("/api/v1/agency/charges?changed_since=2026-10-02T00:00:00Z", token).json["total"] == 0
    # Completions by when recorded, certificates by issue, sessions by their last change.
    assert call("/api/v1/agency/certificates?changed_since=2026-06-20T12:00:00Z", token).json["total"] == 1
    assert call("/api/v1/agency/certificates?changed_since=2026-06-20T12:00:01Z", token).json["total"] == 0
    assert call("/api/v1/agency/certificates?to=2026-06-19", token).json["total"] == 0
    assert call("/api/v1/agency/completions?changed_since=2026-10-02T00:00:00Z", token).json["total"] == 0
    assert call("/api/v1/agency/completions?from=2025-10-15", token).json["total"] == 1
    assert call("/api/v1/agency/completions?to=2025-10-14", token).json["total"] == 0
    assert call("/api/v1/sessions?changed_since=2026-10-02T00:00:00Z", token).json["total"] == 0
    assert call("/api/v1/sessions?from=2026-12-01", token).json["total"] == 0
    assert call("/api/v1/agency/refreshers?from=2026-10-16", token).json["total"] == 0


@pytest.mark.parametrize("query, parameter", [
    ("page=0", "page"), ("page_size=101", "page_size"), ("page=x", "page"), ("from=2026-13-01", "from"),
    ("from=2026-10-02&to=2026-10-01", "from"), ("changed_since=yesterday", "changed_since"),
    ("from=0001-01-01", "from"),
])
def test_bad_parameters_are_a_400_problem_naming_them(world, call, query, parameter):
    response = call(f"/api/v1/agency/bookings?{query}", world.tokens["a"])
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert parameter in response.json["errors"] and response.json["status"] == 400
    assert db.session.scalar(select(AccessLogEntry.id)) is None  # nothing was shown


def test_etags_give_304_and_412(world, call):
    token = world.tokens["a"]
    first = call("/api/v1/agency/charges", token)
    etag = first.headers["ETag"]
    again = call("/api/v1/agency/charges", token, If_None_Match=etag)
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert call("/api/v1/agency/charges", token, If_None_Match='"other"').status_code == 200
    assert call("/api/v1/agency/charges", token, If_Match='"other"').status_code == 412
    assert call("/api/v1/agency/charges", token, If_Match=etag).status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert call("/api/v1/agency/charges", token, Accept="text/html").status_code == 406


def test_tokens_that_do_not_work_get_401_with_a_challenge(world, call):
    token = world.tokens["a"]
    missing = call("/api/v1/agency/bookings", None)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert missing.mimetype == "application/problem+json"
    wrong = call("/api/v1/agency/bookings", "sgt_" + "x" * 43)
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    row = db.session.scalar(select(ApiToken).where(ApiToken.agency_id == world.agencies["a"].id))
    row.expires_at = utcnow()
    db.session.commit()
    assert "expired" in call("/api/v1/agency/bookings", token).json["detail"]
    row.expires_at, row.revoked_at = datetime(2027, 1, 1), utcnow()
    db.session.commit()
    assert "revoked" in call("/api/v1/agency/bookings", token).json["detail"]
    assert call("/api/v1/sessions", token).status_code == 401


def test_a_token_without_the_scope_gets_403(world, call):
    from app.api.tokens import create_token  # here: only this test makes a token of another scope

    other = create_token(world.agencies["a"], name="Completions feed", scopes=["completions"], days=30,
                         actor=world.admin)
    db.session.commit()
    response = call("/api/v1/agency/bookings", other.secret)
    assert response.status_code == 403 and 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_unknown_addresses_and_methods_are_problems_and_no_cookie_is_set(world, client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    posted = client.put("/api/v1/agency/bookings", headers={"Authorization": f"Bearer {world.tokens['a']}"})
    assert posted.status_code in (404, 405) and posted.mimetype == "application/problem+json"
    answered = client.get("/api/v1/agency/bookings", headers={"Authorization": f"Bearer {world.tokens['a']}"})
    assert answered.status_code == 200 and "Set-Cookie" not in answered.headers


def test_each_call_that_shows_staff_writes_one_access_log_row(world, call):
    call("/api/v1/agency/bookings", world.tokens["a"])
    call("/api/v1/sessions", world.tokens["a"])  # the public programme: no one's personal data
    rows = db.session.scalars(select(AccessLogEntry)).all()
    assert len(rows) == 1
    assert (rows[0].kind, rows[0].viewer_id, rows[0].endpoint) == ("api", world.people["a"].coordinator.id,
                                                                    "api.list_bookings")
    assert rows[0].scope.startswith("API token ") and f"agency {world.agencies['a'].id}" in rows[0].scope


def test_the_request_log_names_the_token_by_id_only(world, call, caplog):
    caplog.set_level(logging.INFO, logger="app.requests")
    call("/api/v1/agency/bookings", world.tokens["a"])
    token = db.session.scalar(select(ApiToken).where(ApiToken.agency_id == world.agencies["a"].id))
    line = [r for r in caplog.records if r.name == "app.requests"][-1]
    assert line.fields["api_token_id"] == token.id
    assert world.tokens["a"] not in caplog.text and token.prefix not in caplog.text
    assert token.last_used_at is not None


def test_calls_are_limited_per_token_with_retry_after(world, call, rate_limits):
    rate_limits["API_RATE_LIMIT"] = "2 per minute"
    assert call("/api/v1/sessions", world.tokens["a"]).status_code == 200
    assert call("/api/v1/sessions", world.tokens["a"]).status_code == 200
    limited = call("/api/v1/sessions", world.tokens["a"])
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    assert call("/api/v1/sessions", world.tokens["b"]).status_code == 200  # another token counts alone


def test_an_access_log_that_cannot_be_written_withholds_the_data_as_a_503_problem(world, call, app):
    from app.access_log import WRITER  # here: only this test replaces the writer

    app.extensions[WRITER] = lambda rows: 503
    response = call("/api/v1/agency/bookings", world.tokens["a"])
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "Attendee" not in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"
