"""Issue 12's journeys in real Chromium: a person changes their line manager and the place
waiting for the old one is asked of the new one; an administrator moves someone to an agency
whose domains the address is not on. Every page is checked with axe-core."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from app import clock
from app.bookings.booking import book_place
from app.courses.models import PUBLISHED, Course, Session, SessionPart, Venue
from app.email import deliver_outbox
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 3, 1, 9, 0)
START = datetime(2027, 3, 22, 9, 30)


def _approval_session() -> Session:
    course = Course(code="L3M", title="Safeguarding Level 3", requires_manager_approval=True)
    session = Session(course=course, capacity=5, status=PUBLISHED, starts_at=START,
                      ends_at=START + timedelta(hours=6), venue=Venue(name="Northbridge Civic Centre"))
    session.parts = [SessionPart(starts_at=START, ends_at=START + timedelta(hours=6))]
    db.session.add(session)
    db.session.commit()
    return session


def _agree_path(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/approvals/\S+)", body).group(1)


def test_a_new_line_manager_is_asked_about_the_held_place(app, browser_page, mailbox, make_user):
    clock.set_now(NOW)
    session = _approval_session()
    lena = make_user(name="Lena Marchbank", email="lena@northbridge.example",
                     line_manager_name="Morag Left", line_manager_email="morag@northbridge.example")
    book_place(session, lena, lena)
    db.session.commit()
    deliver_outbox()
    old_link = _agree_path(mailbox.to("morag@northbridge.example")[0])
    page = browser_page

    sign_in(page, lena.email)
    page.goto("/account")
    assert "Morag Left (morag@northbridge.example)" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Change line manager").click()
    assert page.locator("h1").inner_text() == "Change your details"
    assert_accessible(page)
    page.get_by_label("Line manager’s e-mail address").fill("lena@northbridge.example")
    page.get_by_role("button", name="Save changes").click()
    assert "not your own" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("Line manager’s name").fill("Nadia New")
    page.get_by_label("Line manager’s e-mail address").fill("nadia@northbridge.example")
    page.get_by_role("button", name="Save changes").click()
    assert page.locator("h1").inner_text() == "Your account"
    assert "asked your new line manager to agree to 1 place" in page.locator(
        ".govuk-notification-banner").inner_text()
    history = page.locator("table").inner_text()
    assert "morag@northbridge.example" in history and "nadia@northbridge.example" in history
    assert_accessible(page)

    db.session.commit()  # a fresh transaction that sees the browser's change
    deliver_outbox()
    [asked] = mailbox.to("nadia@northbridge.example")
    page.goto(old_link)
    assert "earlier request that no longer applies" in page.locator("main").inner_text()
    assert_accessible(page)
    page.goto(_agree_path(asked))
    assert "Agree to this place" in page.locator("main").inner_text()


def test_an_administrator_moves_someone_outside_the_agencys_domains_with_a_reason(
        app, browser_page, make_user, make_agency):
    clock.set_now(NOW)
    school = make_agency(name="Hillcrest Primary School", domains=("hillcrest.sch.example",))
    admin = make_user(name="Adaeze Fairweather", email="adaeze@lscb.example", roles=("admin",))
    jo = make_user(name="Jo Seconded", email="jo@council.example")
    page = browser_page

    sign_in(page, admin.email)
    page.goto(f"/admin/people/{jo.id}")
    assert_accessible(page)
    page.get_by_role("link", name="Change agency").click()
    assert page.locator("h1").inner_text() == "Change details"
    assert_accessible(page)
    page.get_by_label("Agency", exact=True).select_option(label="Hillcrest Primary School")
    page.get_by_role("button", name="Save changes").click()
    assert "is not on Hillcrest Primary School’s e-mail domains" in page.locator(
        ".govuk-error-summary").inner_text()
    assert_accessible(page)
    page.get_by_role("textbox", name=re.compile("Reason, if the address")).fill("Seconded to the school; checked with the head")
    page.get_by_role("button", name="Save changes").click()
    assert page.locator("h1").inner_text() == "Jo Seconded"
    history = page.locator("table").last.inner_text()
    assert "Approved outside the agency’s domains" in history
    assert "Seconded to the school; checked with the head" in history
    assert_accessible(page)
