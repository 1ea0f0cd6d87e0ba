"""Signing in with an agency's own account through a real OpenID provider on 127.0.0.1
(tests/accounts/oidc_provider/server.mjs), and the protocol's edge cases: what a person sees,
and which account, link and history rows change."""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts import external_sign_in, identity_providers
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
from app.operations.checks import ERROR, settings_problems
from app.privacy.erasure import erase_person
from tests.conftest import TEST_PASSWORD, make_test_config
from tests.oidc_provider import ACCOUNTS, CLIENT_ID, DISPLAY_NAME, PROVIDER_NAME, new_key
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
    agency = make_agency("Northbridge Council", "Local authority", domains=("northbridge.gov.uk",))
    db.session.commit()  # the callback starts its own transaction, as every request does
    return agency


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
    page = text(client.get("/account"))
    assert "Ada Okafor" in page
    assert f"{DISPLAY_NAME} (since" in page and "Your e-mail address and password" in page
    link = db.session.scalar(select(ExternalIdentity))
    assert (link.user_id, link.issuer, link.subject) == (person.id, provider.issuer, "sub-ada")
    assert count(AccountEvent, AccountEvent.action == "linked to sign-in service") == 1
    # The second time the link is used; nothing new is linked.
    client.post("/sign-out", data={})
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 302
    assert count(ExternalIdentity) == 1
    assert count(AccountEvent, AccountEvent.action == "linked to sign-in service") == 1


def test_a_new_person_gets_an_account_in_their_agency_and_gives_a_line_manager_first(
        client, provider, council):
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/details")
    person = db.session.scalar(select(User).where(User.email == ADA))
    assert (person.name, person.agency_id, person.status) == ("Ada Okafor", council.id, ACTIVE)
    assert person.is_verified and person.password_hash is None
    # Every other page sends them back to the details step until it is done.
    assert client.get("/account").headers.get("Location", "").startswith("/account/details")
    page = text(client.get("/account/details"))
    assert "tell us your job title and your line manager" in page
    response = client.post("/account/details", data={
        "name": "Ada Okafor", "job_title": "Family support worker",
        "line_manager_name": "", "line_manager_email": ""})
    assert response.status_code == 200
    assert "Enter your line manager’s e-mail address" in text(response)
    response = client.post("/account/details", data={
        "name": "Ada Okafor", "job_title": "Family support worker",
        "line_manager_name": "Grace Whitfield",
        "line_manager_email": "grace.whitfield@northbridge.gov.uk"})
    assert response.status_code == 302
    db.session.expire_all()
    assert person.line_manager_email == "grace.whitfield@northbridge.gov.uk"
    page = text(client.get("/account"))
    assert f"{DISPLAY_NAME} (since" in page
    # No password here, so nothing to change; a forgotten-password link can set one.
    assert "Your e-mail address and password" not in page and "Change your password" not in page


def test_state_is_checked_and_a_replayed_answer_is_refused(client, provider, council, make_user,
                                                           caplog):
    make_user("Ada Okafor", ADA, agency=council)
    location = provider.log_in(start(client), ADA)
    forged = location.replace("state=", "state=x")
    response = come_back(client, forged)
    assert response.status_code == 400
    assert "Signing in did not work" in text(response)
    assert count(ExternalIdentity) == 0
    # The sign-in's state was used up by the forged answer: the real one cannot follow it.
    caplog.clear()
    response = come_back(client, location)
    assert response.status_code == 400
    assert "reason=state_mismatch" in caplog.text
    assert ADA not in caplog.text and "Ada" not in caplog.text
    # A fresh answer signs in once; the same answer again is refused.
    location = provider.log_in(start(client), ADA)
    assert come_back(client, location).status_code == 302
    client.post("/sign-out", data={})
    assert come_back(client, location).status_code == 400


def test_a_replayed_code_is_refused_by_the_provider(client, provider, council, make_user, caplog):
    make_user("Ada Okafor", ADA, agency=council)
    location = provider.log_in(start(client), ADA)
    with client.session_transaction() as saved:
        pending = dict(saved["external_sign_in"])
    assert come_back(client, location).status_code == 302
    client.post("/sign-out", data={})
    with client.session_transaction() as session:
        session["external_sign_in"] = pending  # as if an attacker had the whole session
    caplog.clear()
    response = come_back(client, location)
    assert response.status_code == 400
    assert "reason=code_refused" in caplog.text
    assert client.get("/account").status_code == 302


def test_a_nonce_the_session_did_not_send_is_refused(client, provider, council, make_user, caplog):
    make_user("Ada Okafor", ADA, agency=council)
    url = start(client)
    nonce = parse_qs(urlsplit(url).query)["nonce"][0]
    location = provider.log_in(url.replace(f"nonce={nonce}", "nonce=someone-elses-nonce"), ADA)
    response = come_back(client, location)
    assert response.status_code == 400
    assert "reason=bad_nonce" in caplog.text
    assert count(ExternalIdentity) == 0


def test_cancelling_at_the_provider_says_so(client, provider):
    response = come_back(client, provider.log_in(start(client), ADA, cancel=True))
    assert response.status_code == 400
    assert "You did not finish signing in" in text(response)


def test_an_unverified_address_is_refused(client, provider, council):
    response = sign_in_at_provider(client, provider, login=ACCOUNTS[2]["login"])
    assert response.status_code == 400
    assert "did not confirm your e-mail address" in text(response)
    assert count(User) == 0


def test_a_domain_no_agency_owns_is_refused_with_the_way_to_register(client, provider, council,
                                                                     caplog):
    response = sign_in_at_provider(client, provider, login=ACCOUNTS[3]["login"])
    assert response.status_code == 400
    page = text(response)
    assert "No partner agency uses e-mail addresses at unknown-partner.example" in page
    assert count(User) == 0
    assert "reason=unknown_domain" in caplog.text and "unknown-partner" not in caplog.text


def test_a_domain_no_agency_owns_is_held_when_the_provider_serves_one_agency(
        client, app, provider, council):
    app.config["OIDC_PROVIDERS"] = provider.settings(agencies=["Northbridge Council"])
    response = sign_in_at_provider(client, provider, login=ACCOUNTS[3]["login"])
    assert response.status_code == 200
    assert "Your account is waiting for approval" in text(response)
    person = db.session.scalar(select(User))
    assert (person.status, person.agency_id) == (PENDING_APPROVAL, council.id)
    assert client.get("/account").status_code == 302  # not signed in
    # Until the L&D team approves it, signing in again says it waits.
    response = sign_in_at_provider(client, provider, login=ACCOUNTS[3]["login"])
    assert response.status_code == 400
    assert "waiting for the L&amp;D team to approve it" in text(response)


def test_a_closed_or_erased_account_cannot_sign_in_through_the_provider(
        client, provider, council, make_user, make_agency):
    person = make_user("Ada Okafor", ADA, agency=council, status=DEACTIVATED)
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 400
    assert "This account has been closed" in text(response)
    assert count(ExternalIdentity) == 0
    person.status = ACTIVE
    db.session.commit()
    assert sign_in_at_provider(client, provider).status_code == 302
    client.post("/sign-out", data={})
    admin = make_user("Lee Admin", "lee.admin@example.org", roles=("admin",))
    erase_person(person, actor=admin, reason="Asked to be forgotten")
    db.session.commit()
    assert count(ExternalIdentity) == 0
    # The erased account stays erased: the provider's account now makes a new one.
    assert sign_in_at_provider(client, provider).status_code == 302
    db.session.expire_all()
    assert person.is_erased
    assert db.session.scalar(select(User).where(User.email == ADA)).id != person.id


def test_an_agency_can_require_its_provider_over_passwords(client, provider, council, make_user):
    person = make_user("Ada Okafor", ADA, agency=council)
    council.sign_in_provider = PROVIDER_NAME
    db.session.commit()
    response = client.post("/sign-in", data={"email": ADA, "password": TEST_PASSWORD})
    assert response.status_code == 200
    page = text(response)
    assert f"Northbridge Council signs in with {DISPLAY_NAME}" in page
    assert f"Sign in with {DISPLAY_NAME}" in page
    assert client.get("/account").status_code == 302
    # A wrong password is still just a wrong password: the rule says nothing about who exists.
    response = client.post("/sign-in", data={"email": ADA, "password": "not the password"})
    assert "Enter a correct e-mail address and password" in text(response)
    assert sign_in_at_provider(client, provider).status_code == 302
    assert client.get("/account").status_code == 200
    # People in other agencies keep their passwords.
    other = make_user("Sam Reed", "sam.reed@example.org")
    client.post("/sign-out", data={})
    assert client.post("/sign-in", data={"email": other.email, "password": TEST_PASSWORD}
                       ).status_code == 302
    assert person.agency.sign_in_provider == PROVIDER_NAME


def test_signing_out_ends_the_session(client, provider, council, make_user):
    person = make_user("Ada Okafor", ADA, agency=council)
    token = person.session_token
    sign_in_at_provider(client, provider)
    with client.session_transaction() as saved:
        copied = dict(saved)
    assert client.post("/sign-out", data={}).status_code == 302
    db.session.expire_all()
    assert person.session_token != token
    with client.session_transaction() as session:
        session.update(copied)  # a copy of the signed-in cookie no longer works
    assert client.get("/account").status_code == 302


def test_rotated_keys_are_fetched_again(client, provider, council, make_user):
    make_user("Ada Okafor", ADA, agency=council)
    assert sign_in_at_provider(client, provider).status_code == 302
    client.post("/sign-out", data={})
    old = provider.key
    try:
        provider.rotate(new_key("key-2"))
        assert sign_in_at_provider(client, provider).status_code == 302
        assert client.get("/account").status_code == 200
    finally:
        provider.rotate(old)


# --- Tokens the provider would not issue: signed here, with or without a key in its JWKS -------

@pytest.fixture
def forge(client, provider, monkeypatch):
    """Start a sign-in, then answer the callback with an ID token made here from the claims the
    test changes (the code exchange returns it instead of the provider's)."""

    def _forge(key=None, **changes):
        url = start(client)
        query = parse_qs(urlsplit(url).query)
        claims = provider.id_token_claims(query["nonce"][0], **changes)
        token = provider.sign(claims, key)
        monkeypatch.setattr(identity_providers, "exchange_code",
                            lambda *args: {"id_token": token, "access_token": "x"})
        return client.get(f"{CALLBACK}?state={query['state'][0]}&code=anything")

    return _forge


@pytest.mark.parametrize("changes, reason", [
    ({}, None),
    ({"iss": "http://127.0.0.1:1"}, "bad_iss"),
    ({"aud": "another-client"}, "bad_aud"),
    ({"aud": [CLIENT_ID, "another-client"]}, "bad_azp"),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, "expired_token"),
    ({"nonce": "not-the-sessions"}, "bad_nonce"),
    ({"nonce": None}, "bad_nonce"),
    ({"email_verified": None}, "unverified_email"),
    ({"email": None}, "no_email"),
])
def test_id_token_claims_are_checked(forge, council, make_user, caplog, changes, reason):
    make_user("Ada Okafor", ADA, agency=council)
    caplog.set_level(logging.INFO)
    response = forge(**changes)
    if reason is None:
        assert response.status_code == 302 and response.headers["Location"] == "/"
        return
    assert response.status_code == 400, reason
    assert "Signing in did not work" in text(response)
    assert f"reason={reason}" in caplog.text
    assert count(ExternalIdentity) == 0


def test_a_signature_by_a_key_the_provider_does_not_publish_is_refused(forge, council, make_user,
                                                                       caplog):
    make_user("Ada Okafor", ADA, agency=council)
    response = forge(key=new_key("key-1"))  # the provider's key id, someone else's key
    assert response.status_code == 400
    assert "reason=bad_signature" in caplog.text
    response = forge(key=new_key("unknown-key"))
    assert response.status_code == 400
    assert count(ExternalIdentity) == 0


def test_an_unsigned_token_is_refused(forge, provider, council, make_user, caplog, monkeypatch):
    make_user("Ada Okafor", ADA, agency=council)
    monkeypatch.setattr(provider, "sign", lambda claims, key=None: ".".join([
        "eyJhbGciOiJub25lIn0", __import__("base64").urlsafe_b64encode(
            __import__("json").dumps(claims).encode()).decode().rstrip("="), ""]))
    assert forge().status_code == 400
    assert count(ExternalIdentity) == 0


# --- Microsoft Entra ID, multi-tenant -------------------------------------------------------

NORTHBRIDGE_TENANT = "7f3c9a52-1111-4d2e-9c1b-2f9d1e6a0b11"
OTHER_TENANT = "0b8e2c44-2222-4a9f-8d3e-5c7a9b1f2e22"
ENTRA_ISSUER = "https://login.microsoftonline.com/{tenantid}/v2.0"


@pytest.fixture
def entra(app, provider, council, monkeypatch):
    """An Entra multi-tenant provider whose discovery document is Entra's (its keys are the test
    provider's, which the tests hold)."""
    app.config["OIDC_PROVIDERS"] = json.dumps([{
        "name": PROVIDER_NAME, "display_name": "Microsoft 365",
        "issuer": "https://login.microsoftonline.com/organizations/v2.0",
        "client_id": CLIENT_ID, "client_secret": "secret",
        "tenant_ids": {NORTHBRIDGE_TENANT: "Northbridge Council"}}])
    document = {"issuer": ENTRA_ISSUER, "authorization_endpoint": provider.issuer + "/auth",
                "token_endpoint": provider.issuer + "/token",
                "jwks_uri": provider.issuer + "/jwks",
                "id_token_signing_alg_values_supported": ["RS256"]}
    monkeypatch.setattr(identity_providers, "metadata", lambda _provider: document)
    return provider


def entra_claims(tenant: str, **changes) -> dict:
    return {"iss": ENTRA_ISSUER.replace("{tenantid}", tenant), "tid": tenant,
            "email_verified": None, **changes}


def test_entra_accepts_the_agencys_tenant_and_vouches_for_its_domains(entra, forge, council):
    response = forge(**entra_claims(NORTHBRIDGE_TENANT))
    assert response.status_code == 302
    person = db.session.scalar(select(User))
    assert person.agency_id == council.id
    link = db.session.scalar(select(ExternalIdentity))
    assert link.issuer == f"https://login.microsoftonline.com/{NORTHBRIDGE_TENANT}/v2.0"


@pytest.mark.parametrize("changes, reason", [
    (entra_claims(OTHER_TENANT), "unknown_tenant"),
    (entra_claims(NORTHBRIDGE_TENANT, iss=ENTRA_ISSUER.replace("{tenantid}", OTHER_TENANT)),
     "bad_iss"),
    (entra_claims(NORTHBRIDGE_TENANT, email="ada@partner-charity.example"), "unverified_email"),
    (entra_claims(NORTHBRIDGE_TENANT, email="ada@partner-charity.example", xms_edov=True),
     "tenant_mismatch"),
])
def test_entra_refuses_other_tenants_and_addresses_it_does_not_vouch_for(
        entra, forge, make_agency, caplog, changes, reason):
    make_agency("Partner Charity", "Voluntary", domains=("partner-charity.example",))
    db.session.commit()
    response = forge(**changes)
    assert response.status_code == 400
    assert f"reason={reason}" in caplog.text
    assert count(User) == 0


# --- Settings -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, says", [
    ("not json", "not JSON"),
    ('{"name": "x"}', "JSON list"),
    ('[{"name": "x"}]', "needs 'issuer'"),
    ('[{"name": "a b", "display_name": "A", "issuer": "https://a.example", "client_id": "c", '
     '"client_secret": "s"}]', "letters, digits"),
    ('[{"name": "a", "display_name": "A", "issuer": "http://a.example", "client_id": "c", '
     '"client_secret": "s"}]', "https://"),
    ('[{"name": "a", "display_name": "A", "client_id": "c", "client_secret": "s", '
     '"issuer": "https://login.microsoftonline.com/organizations/v2.0"}]', "tenant_ids"),
])
def test_bad_settings_say_what_is_wrong(raw, says):
    with pytest.raises(ProviderSettingsError, match=says):
        parse_providers(raw)


def test_settings_read_every_field():
    providers = parse_providers(
        '[{"name": "NHSmail", "display_name": "NHSmail", "issuer": "https://auth.example.nhs.uk/",'
        ' "client_id": "c", "client_secret": "very-secret-value", "domains": ["@nhs.net"],'
        ' "agencies": ["Northbridge NHS Trust"]}]')
    nhs = providers["nhsmail"]
    assert (nhs.issuer, nhs.domains, nhs.agencies) == (
        "https://auth.example.nhs.uk", ("nhs.net",), ("Northbridge NHS Trust",))
    assert not nhs.is_entra and "very-secret-value" not in repr(nhs)


# --- Administration -------------------------------------------------------------------------

def test_an_administrator_requires_a_provider_for_an_agency(client, provider, council, make_user,
                                                            login_as):
    admin = make_user("Lee Admin", "lee.admin@example.org", roles=("admin",))
    login_as(admin)
    path = f"/admin/agencies/{council.id}/edit"
    page = text(client.get(path))
    assert f"Only with {DISPLAY_NAME}" in page
    form = {"name": council.name, "sector_id": council.sector_id,
            "domains": "northbridge.gov.uk", "active": "y"}
    response = client.post(path, data={**form, "sign_in_provider": "somewhere-else"})
    assert response.status_code == 200
    db.session.expire_all()
    assert council.sign_in_provider is None
    assert client.post(path, data={**form, "sign_in_provider": PROVIDER_NAME}).status_code == 302
    db.session.expire_all()
    assert council.sign_in_provider == PROVIDER_NAME
    assert client.post(path, data={**form, "sign_in_provider": ""}).status_code == 302
    db.session.expire_all()
    assert council.sign_in_provider is None


def test_without_providers_the_agency_form_does_not_offer_the_choice(client, app, council,
                                                                     make_user, login_as):
    login_as(make_user("Lee Admin", "lee.admin@example.org", roles=("admin",)))
    assert "How its staff sign in" not in text(client.get(f"/admin/agencies/{council.id}/edit"))


def test_the_app_refuses_to_start_with_settings_it_cannot_read(smtp_server):
    with pytest.raises(ProviderSettingsError, match="needs 'client_secret'"):
        create_app(make_test_config(smtp_server.port, OIDC_PROVIDERS=json.dumps([{
            "name": "google", "display_name": "Google", "issuer": "https://accounts.google.com",
            "client_id": "c"}])))


def test_a_provider_that_cannot_be_reached_gives_a_page_not_an_error(client, app, provider,
                                                                     caplog):
    app.config["OIDC_PROVIDERS"] = json.dumps([{
        "name": PROVIDER_NAME, "display_name": DISPLAY_NAME, "issuer": "http://127.0.0.1:9",
        "client_id": CLIENT_ID, "client_secret": "secret"}])
    response = client.get(START)
    assert response.status_code == 502
    assert "We could not reach your organisation’s sign-in service" in text(response)
    assert "reason=provider_unreachable" in caplog.text


@pytest.mark.parametrize("settings, reason", [
    ({"domains": ["nhs.net"]}, "domain_not_served"),
    ({"agencies": ["Northbridge NHS Trust"]}, "agency_not_served"),
])
def test_a_provider_signs_in_only_the_domains_and_agencies_it_serves(
        client, app, provider, council, make_user, caplog, settings, reason):
    make_user("Ada Okafor", ADA, agency=council)
    app.config["OIDC_PROVIDERS"] = provider.settings(**settings)
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 400
    assert f"reason={reason}" in caplog.text
    assert count(ExternalIdentity) == 0


def test_an_agency_requiring_another_provider_is_sent_to_its_button(client, app, provider,
                                                                   council, make_user):
    make_user("Ada Okafor", ADA, agency=council)
    settings = json.loads(provider.settings())
    settings.append({**settings[0], "name": "nhsmail", "display_name": "NHSmail"})
    app.config["OIDC_PROVIDERS"] = json.dumps(settings)
    council.sign_in_provider = "nhsmail"
    db.session.commit()
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 400
    assert "Northbridge Council signs in with NHSmail" in text(response)
    assert count(ExternalIdentity) == 0


def test_an_account_linked_to_another_provider_account_is_not_linked_again(
        client, provider, council, make_user):
    person = make_user("Ada Okafor", ADA, agency=council)
    db.session.add(ExternalIdentity(user_id=person.id, provider=PROVIDER_NAME,
                                    issuer=provider.issuer, subject="an-older-account"))
    db.session.commit()
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 400
    assert "already linked to a different account" in text(response)
    assert count(ExternalIdentity) == 1


def test_two_first_sign_ins_at_once_give_one_account_and_a_page(client, app, provider, council,
                                                                monkeypatch):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite: the sign-in holds the only write lock, so no one else can write")
    made = external_sign_in._create_person

    def rival_first(*args):
        # Another tab's sign-in commits the same person's account just before this one flushes.
        with app.app_context():
            rival = User(name="Ada Okafor", email=ADA, agency_id=council.id)
            db.session.add(rival)
            db.session.commit()
        return made(*args)

    db.session.commit()
    monkeypatch.setattr(external_sign_in, "_create_person", rival_first)
    response = sign_in_at_provider(client, provider)
    assert response.status_code == 409
    assert "Start again from the sign-in page" in text(response)
    assert count(User) == 1 and count(ExternalIdentity) == 0


def test_flask_check_reports_a_provider_not_on_https():
    config = {"ENV_NAME": "production", "SECRET_KEY": "x" * 64, "BASE_URL": "https://t.example",
              "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://t@db/t", "MAIL_SERVER": "smtp.t",
              "MAIL_PORT": 587, "MAIL_USE_TLS": True, "TRUSTED_PROXY_HOPS": 1,
              "SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True}
    assert not [p for p in settings_problems(config) if "sign-in service" in p.problem]
    config["OIDC_PROVIDERS"] = json.dumps([{
        "name": "local", "display_name": "Local", "issuer": "http://127.0.0.1:9000",
        "client_id": "c", "client_secret": "s"}])
    [problem] = [p for p in settings_problems(config) if "sign-in service" in p.problem]
    assert problem.severity == ERROR and "not https://" in problem.problem
