"""Issue 16's subject access and erasure in real Chromium: a person reads their data and asks for
erasure; an administrator sees what stands in the way, records a payment, and erases. Every page is
checked with axe-core."""
from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from app import clock
from app.attendance.outcomes import record_outcome
from app.bookings.models import CANCELLED, DID_NOT_ATTEND, Booking
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 4, 1, 9, 0)


def test_a_person_reads_their_data_and_an_administrator_erases_it(app, open_page, make_user, make_course,
                                                                   make_session, make_booking):
    clock.set_now(NOW)
    admin = make_user(name="Ada Administrator", email="ada@nbscp.example", roles=("admin",))
    person = make_user(name="Petra Quennell", email="petra.quennell@nbhealth.example")
    course = make_course(title="Safeguarding Level 3", charge_pence=7500)
    missed = make_booking(make_session(course, NOW - timedelta(days=20)), person, history=True)
    record_outcome(missed, DID_NOT_ATTEND, admin, "register")
    make_booking(make_session(course, NOW + timedelta(days=20)), person, history=True)
    db.session.commit()

    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, person.email)
    page.goto("/account")
    page.get_by_role("link", name="Your data: download a copy, or ask for it to be erased").click()
    expect(page.locator("h1")).to_have_text("Your data")
    assert_accessible(page)
    page.get_by_role("link", name="Read your data as a page you can print or save").click()
    expect(page.locator("main")).to_contain_text("Safeguarding Level 3")
    assert_accessible(page)
    page.go_back()
    page.get_by_role("button", name="Ask for my details to be erased").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("We have told the L&D team")
    assert_accessible(page)

    page = open_page(viewport={"width": 1280, "height": 900})
    sign_in(page, admin.email)
    page.goto(f"/admin/people/{person.id}")
    page.get_by_role("link", name="Erase this person’s details").click()
    expect(page.locator("main")).to_contain_text("This cannot be done yet")
    blocked = page.locator("main").inner_text()
    assert "This cannot be done yet" in blocked and "is not paid" in blocked
    assert_accessible(page)

    page.goto("/charges")
    page.get_by_role("button", name="Record as paid").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded as paid")
    assert_accessible(page)

    db.session.commit()  # a fresh transaction that sees the browser's change
    # The place to come is cancelled (as the L&D team would, through the booking's page).
    for booking in db.session.query(Booking).filter(Booking.user_id == person.id, Booking.outcome.is_(None)):
        booking.status = CANCELLED
    db.session.commit()

    page.goto(f"/admin/people/{person.id}/erase")
    page.get_by_role("button", name="Erase this person’s details").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Confirm that you understand")
    assert_accessible(page)
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Erase this person’s details").click()
    expect(page.locator("h1")).to_have_text("Erased person")
    assert_accessible(page)
