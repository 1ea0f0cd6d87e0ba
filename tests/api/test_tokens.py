"""Token pages: a coordinator creates and revokes their own agency's tokens (an administrator any
agency's), a token is shown once and kept only as a hash; the rules refuse bad input; subject
access and erasure cover the tokens a person made."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from app.accounts.models import ADMIN, COORDINATOR
from app.api.models import ApiToken
from app.api.tokens import ApiTokenError, create_token
from app.extensions import db
from app.privacy.erasure import erase_person
from app.privacy.subject_access import subject_access

SECRET = re.compile(r'value="(sgt_[A-Za-z0-9_-]{43})"')


def _tokens():
    return db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


def test_a_coordinator_creates_a_token_shown_once_and_kept_as_a_hash(app, make_agency, make_user, client,
                                                                       login_as):
    agency = make_agency("Riverside Health")
    coordinator = make_user(agency=agency, roles=(COORDINATOR,))
    login_as(coordinator)
    assert "The agency has no tokens." in client.get("/agency/api-tokens").get_data(as_text=True)
    page = client.post(f"/agency/api-tokens/new?agency_id={agency.id}",
                       data={"name": "HR system", "scopes": ["read", "completions"], "days": "90"})
    assert page.status_code == 200
    secret = SECRET.search(page.get_data(as_text=True)).group(1)
    [token] = _tokens()
    assert (token.agency_id, token.scope_list, token.created_by_id) == (agency.id, ["read", "completions"],
                                                                       coordinator.id)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret[4:12] == token.prefix
    listing = client.get("/agency/api-tokens").get_data(as_text=True)
    assert "HR system" in listing and secret not in listing and f"sgt_{token.prefix}" in listing
    assert client.get("/api/v1/agency/bookings", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


@pytest.mark.parametrize("data, message", [
    ({"name": "", "scopes": ["read"], "days": "90"}, "Enter a name"),
    ({"name": "HR", "days": "90"}, "Select what the token may do"),
    ({"name": "HR", "scopes": ["everything"], "days": "90"}, "not a valid choice"),
    ({"name": "HR", "scopes": ["read"], "days": "3650"}, "not a valid choice"),
    ({"name": "x" * 101, "scopes": ["read"], "days": "90"}, "100 characters or fewer"),
])
def test_bad_input_is_shown_on_the_form_and_makes_no_token(app, make_agency, make_user, client, login_as,
                                                          data, message):
    agency = make_agency()
    login_as(make_user(agency=agency, roles=(COORDINATOR,)))
    page = client.post(f"/agency/api-tokens/new?agency_id={agency.id}", data=data)
    assert page.status_code == 200 and message.lower() in page.get_data(as_text=True).lower()
    assert _tokens() == []


def test_the_longest_life_is_a_setting(app, make_agency, make_user):
    app.config["API_TOKEN_MAX_DAYS"] = 90
    agency = make_agency()
    with pytest.raises(ApiTokenError, match="at most 90 days"):
        create_token(agency, name="HR", scopes=["read"], days=180, actor=make_user(roles=(ADMIN,)))


def test_only_the_agencys_coordinators_and_administrators_manage_its_tokens(app, make_agency, make_user,
                                                                            client, login_as):
    mine, theirs = make_agency("Mine"), make_agency("Theirs")
    other = create_token(theirs, name="Their system", scopes=["read"], days=30,
                         actor=make_user(roles=(ADMIN,)))
    db.session.commit()
    login_as(make_user(agency=mine, roles=(COORDINATOR,)))
    assert client.get(f"/agency/api-tokens?agency_id={theirs.id}").status_code == 404
    assert client.post(f"/agency/api-tokens/new?agency_id={theirs.id}",
                       data={"name": "Sneaky", "scopes": ["read"], "days": "30"}).status_code == 404
    assert client.post(f"/agency/api-tokens/{other.token.id}/revoke").status_code == 404
    assert db.session.get(ApiToken, other.token.id).revoked_at is None and len(_tokens()) == 1
    client.post("/sign-out")
    login_as(make_user(agency=mine))
    assert client.get("/agency/api-tokens").status_code == 403
    client.post("/sign-out")
    login_as(make_user(roles=(ADMIN,)))
    listing = client.get("/agency/api-tokens").get_data(as_text=True)
    assert "Mine" in listing and "Theirs" in listing
    assert "Their system" in client.get(f"/agency/api-tokens?agency_id={theirs.id}").get_data(as_text=True)


def test_revoking_asks_first_then_stops_the_token_at_once(app, make_agency, make_user, client, login_as):
    agency = make_agency()
    coordinator = make_user(agency=agency, roles=(COORDINATOR,))
    made = create_token(agency, name="HR system", scopes=["read"], days=30, actor=coordinator)
    db.session.commit()
    login_as(coordinator)
    confirm = client.get(f"/agency/api-tokens/{made.token.id}/revoke")
    assert "Revoke the token HR system?" in confirm.get_data(as_text=True)
    assert db.session.get(ApiToken, made.token.id).revoked_at is None
    done = client.post(f"/agency/api-tokens/{made.token.id}/revoke", follow_redirects=True)
    assert "was revoked" in done.get_data(as_text=True)
    token = db.session.get(ApiToken, made.token.id)
    assert token.revoked_by_id == coordinator.id and token.revoked_at is not None
    assert client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {made.secret}"}).status_code == 401
    again = client.post(f"/agency/api-tokens/{made.token.id}/revoke")
    assert "no longer works" in again.get_data(as_text=True)


def test_subject_access_lists_and_erasure_scrubs_the_tokens_a_person_made(app, make_agency, make_user):
    agency = make_agency()
    coordinator = make_user(name="Priya Example", agency=agency, roles=(COORDINATOR,))
    made = create_token(agency, name="Priya Example's HR feed", scopes=["read"], days=30, actor=coordinator)
    db.session.commit()
    others = subject_access(coordinator).other_records
    assert {"table": "api_tokens", "key": [made.token.id], "columns": ["created_by_id", "name"]} in others
    erase_person(coordinator, actor=make_user(roles=(ADMIN,)))
    db.session.commit()
    assert "Priya" not in db.session.get(ApiToken, made.token.id).name
