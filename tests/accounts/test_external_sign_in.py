"""Signing in with an agency's own account through a real OpenID provider on 127.0.0.1
(tests/accounts/oidc_provider/server.mjs), and the protocol's edge cases: what a person sees,
and which account, link and history rows change."""
from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.accounts import identity_providers
from app.accounts.identity_providers import ProviderSettingsError, parse_providers
from app.accounts.models import (
    ACTIVE,
    DEACTIVATED,
    PENDING_APPROVAL,
    AccountEvent,
    ExternalIdentity,
    User,
)
from app.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.oidc_provider import ACCOUNTS, CLIENT_ID, DISPLAY_NAME, PROVIDER_NAME, callback_query, \
    new_key
from tests.security import page_without_nonce

START = f"/sign-in/with/{PROVIDER_NAME}"
CALLBACK = f"/sign-in/with/{PROVIDER_NAME}/callback"
ADA = ACCOUNTS[0]["email"]


def text(response) -> str:
    return page_without_nonce(response)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def council(make_agency):
    return make_agency("Northbridge Council", "Local authority", domains=("northbridge.gov.uk",))


@pytest.fixture
def provider(app, oidc_provider):
    """The app set up with the test provider (callbacks on 127.0.0.1, as registered)."""
    app.config["OIDC_PROVIDERS"] = oidc_provider.settings()
    app.config["BASE_URL"] = "http://127.0.0.1"
    identity_providers.forget_cached_documents()
    yield oidc_provider
    identity_providers.forget_cached_documents()


def start(client):
    """Press the provider's button; return the provider's authorization address."""
    response = client.get(START)
    assert response.status_code == 302
    return response.headers["Location"]


def come_back(client, location: str):
    """Follow the provider's redirect back to this site."""
    parts = urlsplit(location)
    assert parts.path == CALLBACK, location
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_at_provider(client, provider, login=ADA, **options):
    return come_back(client, provider.log_in(start(client), login, **options))


def test_the_sign_in_page_has_a_button_per_provider(client, provider):
    page = text(client.get("/sign-in"))
    assert f"Sign in with {DISPLAY_NAME}" in page
    assert f'href="{START}"' in page


def test_no_providers_no_buttons(client, app):
    assert "Sign in with" not in text(client.get("/sign-in"))
    assert client.get(START).status_code == 404


def test_authorization_request_uses_pkce_state_and_nonce(client, provider):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == [f"http://127.0.0.1{CALLBACK}"]


def test_an_existing_account_is_linked_and_signed_in(client, provider, council, make_user):
    person = make_user("Ada Okafor", ADA, agency=council)
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Ada Okafor" in text(client.get("/account"))
    link = db.session.scalar(select(ExternalIdentity))
    assert (link.user_id, link.issuer, link.subject) == (person.id, provider.issuer, "sub-ada")
    assert count(AccountEvent, AccountEvent.action == "linked to sign-in service") == 1
    # The second time the link is used; nothing new is linked.
    client.post("/sign-out", data={})
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 302
    assert count(ExternalIdentity) == 1
    assert count(AccountEvent, AccountEvent.action == "linked to sign-in service") == 1
