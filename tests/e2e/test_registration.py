"""Issue 2's journey in real Chromium: register, follow the e-mailed link, sign in, sign out."""
import re

from app.email import deliver_outbox
from app.extensions import db
from tests.e2e.conftest import assert_accessible


def test_register_verify_sign_in_and_out(app, browser_page, mailbox, make_agency):
    agency = make_agency(name="Hillcrest Primary School", sector="Education - schools",
                         domains=("hillcrest.sch.example",))
    db.session.commit()
    page = browser_page

    page.goto("/")
    assert_accessible(page)
    page.get_by_role("button", name="Create an account").click()
    assert page.locator("h1").inner_text() == "Create an account"
    assert_accessible(page)

    # A shared mailbox is refused with a reason, and nothing is created.
    page.get_by_label("Full name").fill("Imani Sowerby")
    page.get_by_label("Work e-mail address").fill("office@hillcrest.sch.example")
    page.get_by_label("Job title").fill("Designated safeguarding lead")
    page.get_by_label("Agency").select_option(label=agency.name)
    page.get_by_label("Line manager’s name").fill("Priya Dunmore")
    page.get_by_label("Line manager’s e-mail address").fill("priya.dunmore@hillcrest.sch.example")
    page.get_by_label("Create a password", exact=True).fill("a long enough passphrase")
    page.get_by_label("Type the password again").fill("a long enough passphrase")
    page.get_by_role("button", name="Create account").click()
    assert "There is a problem" in page.locator(".govuk-error-summary").inner_text()
    assert "shared mailbox" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.get_by_label("Work e-mail address").fill("imani.sowerby@hillcrest.sch.example")
    page.get_by_label("Create a password", exact=True).fill("a long enough passphrase")
    page.get_by_label("Type the password again").fill("a long enough passphrase")
    page.get_by_role("button", name="Create account").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    assert_accessible(page)

    # Signing in before confirming is refused with the way forward.
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill("imani.sowerby@hillcrest.sch.example")
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_role("button", name="Sign in").click()
    assert "Confirm your e-mail address first" in page.locator(".govuk-error-summary").inner_text()

    assert deliver_outbox()[0] == 1
    [message] = mailbox.to("imani.sowerby@hillcrest.sch.example")
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/verify/\S+", text).group(0)

    page.goto(link)
    assert "Your e-mail address is confirmed" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("h1").inner_text() == "Sign in"
    assert_accessible(page)
    page.get_by_label("E-mail address").fill("imani.sowerby@hillcrest.sch.example")
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_role("button", name="Sign in").click()
    assert "Signed in as Imani Sowerby, Hillcrest Primary School" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="Your account").click()
    assert "Designated safeguarding lead" in page.locator("main").inner_text()
    assert_accessible(page)

    # A common password is refused with a reason; a good one keeps this browser signed in.
    page.get_by_role("link", name="Change your password").click()
    assert page.locator("h1").inner_text() == "Change your password"
    assert_accessible(page)
    page.get_by_label("Current password").fill("a long enough passphrase")
    page.get_by_label("New password", exact=True).fill("password123")
    page.get_by_label("Type the new password again").fill("password123")
    page.get_by_role("button", name="Change password").click()
    assert "too easy to guess" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Current password").fill("a long enough passphrase")
    page.get_by_label("New password", exact=True).fill("heron violet teapot")
    page.get_by_label("Type the new password again").fill("heron violet teapot")
    page.get_by_role("button", name="Change password").click()
    assert "Your password has been changed" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("h1").inner_text() == "Your account"

    page.get_by_role("link", name="Sign out").click()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()
    assert "You have signed out" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator(".govuk-service-navigation").get_by_role("link", name="Sign in").count() == 1
