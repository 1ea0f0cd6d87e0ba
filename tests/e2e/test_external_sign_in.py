"""Issue 15's journey in real Chromium: sign in with an organisation's account at its own
provider's page (a real OpenID provider on 127.0.0.1), give a line manager the first time, sign
out; then sign in again straight through, and find a password refused for an agency that requires
its provider."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts import identity_providers
from app.accounts.models import User
from app.extensions import db
from tests.e2e.conftest import assert_accessible
from tests.oidc_provider import (  # noqa: F401  (oidc_provider is a fixture, used by name)
    ACCOUNTS,
    DISPLAY_NAME,
    PROVIDER_PASSWORD,
    PROVIDER_NAME,
    oidc_provider,
)

BUTTON = f"Sign in with {DISPLAY_NAME}"


def sign_in_at_provider(page, email: str) -> None:
    page.get_by_role("button", name=BUTTON).click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Work e-mail").fill(email)
    page.get_by_label("Provider password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_sign_in_with_the_agencys_account(app, live_server, oidc_provider, browser_page,
                                          make_agency):
    council = make_agency("Northbridge Council", "Local authority",
                          domains=("northbridge.gov.uk",))
    db.session.commit()
    for config in (app.config, live_server.app.config):
        config["OIDC_PROVIDERS"] = oidc_provider.settings()
    identity_providers.forget_cached_documents()
    page = browser_page
    email = ACCOUNTS[0]["email"]

    page.goto("/sign-in")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    assert_accessible(page)
    # The button is reachable from the keyboard.
    button = page.get_by_role("button", name=BUTTON)
    button.focus()
    expect(button).to_be_focused()

    # The first time: an account is made in the agency owning the address, then the details.
    sign_in_at_provider(page, email)
    expect(page).to_have_url(re.compile(r"/account/details"))
    expect(page.get_by_role("heading", name="Change your details")).to_be_visible()
    assert "tell us your job title and your line manager" in page.locator(
        ".govuk-notification-banner").inner_text()
    assert_accessible(page)
    page.get_by_label("Job title").fill("Family support worker")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter your line manager’s e-mail address")
    assert_accessible(page)
    page.get_by_label("Line manager’s name").fill("Grace Whitfield")
    page.get_by_label("Line manager’s e-mail address").fill("grace.whitfield@northbridge.gov.uk")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Signed in as Ada Okafor, Northbridge Council")
    assert_accessible(page)
    person = db.session.scalar(select(User).where(User.email == email))
    assert person.line_manager_email == "grace.whitfield@northbridge.gov.uk"
    db.session.commit()  # end this read, so the server's writes are not waiting on it

    # Signing out ends the session here.
    page.get_by_role("link", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in"))

    # The agency now requires its provider: a password is refused with the button to use.
    db.session.expire_all()
    council.sign_in_provider = PROVIDER_NAME
    person.set_password("a long enough passphrase")
    db.session.commit()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"Northbridge Council signs in with {DISPLAY_NAME}")
    assert_accessible(page)
    # The provider remembers them (their organisation's single sign-on): straight back, signed
    # in, to the page they were asked to sign in for.
    page.get_by_role("button", name=BUTTON).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert page.url == live_server.url + "/account"
    assert_accessible(page)
