"""Issue 17 in real Chromium: a coordinator books a full session for one of their staff (waiting
list), sees the position on the agency page; a place frees on a course that offers places and the
person takes it by the e-mailed link; interest in a course with no date. Every page is checked with
axe-core, and everything is reached by keyboard-usable links and buttons."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.models import CONFIRMED, OFFERED, WAITING, Booking
from app.courses.models import PUBLISHED, Course, Session, SessionPart, Venue
from app.email import deliver_outbox
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 3, 1, 9, 0)
START = datetime(2027, 3, 22, 9, 30)


def _session(capacity: int) -> Session:
    course = Course(code="DA1", title="Domestic Abuse and Sexual Violence", requires_manager_approval=False,
                    uses_offers=True, offer_hours=24)
    session = Session(course=course, capacity=capacity, status=PUBLISHED, starts_at=START,
                      ends_at=START + timedelta(hours=6), venue=Venue(name="Northbridge Civic Centre"))
    session.parts = [SessionPart(starts_at=START, ends_at=START + timedelta(hours=6))]
    db.session.add(session)
    db.session.commit()
    return session


def test_a_coordinator_books_for_staff_and_the_person_takes_an_offered_place(
        app, browser_page, mailbox, make_user, make_agency):
    clock.set_now(NOW)
    agency = make_agency(name="Northbridge Hospital Trust")
    session = _session(capacity=1)
    holder = make_user(name="Priya Holloway", agency=agency)
    book_place(session, holder, holder)
    db.session.commit()
    coordinator = make_user(name="Colm Ashdown", email="colm@northbridge.example", agency=agency,
                            roles=("coordinator",))
    staff = make_user(name="Rosa Penhaligon", email="rosa@northbridge.example", agency=agency)
    page = browser_page

    sign_in(page, coordinator.email)
    page.goto("/agency")
    expect(page.locator("h1")).to_have_text("Northbridge Hospital Trust")
    page.get_by_role("link", name="Rosa Penhaligon").first.click()
    expect(page.locator("h1")).to_have_text("Rosa Penhaligon’s bookings")
    assert_accessible(page)
    page.get_by_label("Session").select_option(value=str(session.id))
    page.get_by_role("button", name="Book the place").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("on the waiting list")
    expect(page.locator("main")).to_contain_text("number 1 on the waiting list")
    page.goto("/agency")
    expect(page.get_by_role("region", name="Staff on waiting lists for upcoming sessions")).to_contain_text(
        "Number 1 on the waiting list")
    assert_accessible(page)

    db.session.commit()
    booking = db.session.scalar(select(Booking).where(Booking.user_id == staff.id))
    assert booking.status == WAITING and booking.booked_by_id == coordinator.id
    cancel_booking(db.session.scalar(select(Booking).where(Booking.user_id == holder.id)), holder)
    db.session.commit()
    assert db.session.get(Booking, booking.id).status == OFFERED
    deliver_outbox()
    [offer] = [m for m in mailbox.to(staff.email) if "offered" in str(m["Subject"])]
    text = offer.get_body(preferencelist=("plain",)).get_content()
    accept_url = re.search(r"https?://\S+/offers/\S+", text).group(0)

    page.goto(accept_url)
    expect(page.locator("h1")).to_have_text("Take the place")
    assert_accessible(page)
    page.get_by_role("button", name="Take the place").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("You have taken the place")
    assert_accessible(page)
    db.session.commit()
    assert db.session.get(Booking, booking.id).status == CONFIRMED


def test_a_person_asks_to_hear_of_new_dates_and_stops(app, browser_page, make_user):
    clock.set_now(NOW)
    db.session.add(Course(code="PF1", title="Private Fostering", requires_manager_approval=False))
    db.session.commit()
    person = make_user(name="Aled Fairweather", email="aled@northbridge.example")
    page = browser_page

    sign_in(page, person.email)
    page.goto("/courses/PF1")
    expect(page.locator("h1")).to_have_text("Private Fostering")
    assert_accessible(page)
    page.get_by_role("button", name="Tell me about new dates").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("We will e-mail you")
    page.goto("/my-bookings")
    expect(page.locator("#interest")).to_have_text("Courses you asked to hear about")
    assert_accessible(page)
    page.get_by_role("button", name="Stop telling me about Private Fostering").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("no longer e-mail you")
