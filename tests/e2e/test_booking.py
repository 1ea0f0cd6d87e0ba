"""Issue 4's journey in real Chromium: book the last place, get the e-mail with its invitation,
cancel, and the colleague on the waiting list is given the place and told. Every page is checked
with axe-core."""
from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from app import clock
from app.bookings import approvals
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.completions import record_completion
from app.bookings.models import CANCELLED, CONFIRMED, WAITING, Booking
from app.courses.models import PUBLISHED, Course, Reservation, Session, SessionPart, Venue
from app.email import deliver_outbox
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 3, 1, 9, 0)
START = datetime(2027, 3, 22, 9, 30)


def _session(capacity: int, **extra) -> Session:
    course = Course(code="L3", title="Safeguarding Level 3", requires_manager_approval=False)
    session = Session(course=course, capacity=capacity, status=PUBLISHED, starts_at=START,
                      ends_at=START + timedelta(hours=6), venue=Venue(name="Northbridge Civic Centre"),
                      **extra)
    session.parts = [SessionPart(starts_at=START, ends_at=START + timedelta(hours=6))]
    db.session.add(session)
    db.session.commit()
    return session


def _calendar(message) -> Calendar:
    # A meeting request is a body part (text/calendar in multipart/alternative), not an attachment.
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


def test_book_see_the_email_cancel_and_the_waiting_colleague_is_promoted(
        app, browser_page, mailbox, make_user, make_agency):
    clock.set_now(NOW)
    agency = make_agency(name="Northbridge Council - Children's Social Care", sector="Children's Social Care")
    session = _session(capacity=2)
    book_place(session, make_user(agency=agency), make_user(agency=agency))
    db.session.commit()
    lena = make_user(name="Lena Marchbank", email="lena@northbridge.example", agency=agency)
    colleague = make_user(name="Kasia Rowbotham", email="kasia@northbridge.example", agency=agency)
    page = browser_page

    sign_in(page, lena.email)
    page.goto(f"/sessions/{session.id}/book")
    assert page.locator("h1").inner_text() == "Check and confirm your booking"
    assert "a general place" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_label("Access or dietary needs (optional)").fill("Vegetarian lunch")
    page.get_by_role("button", name="Confirm booking").click()
    assert page.locator("h1").inner_text() == "My bookings"
    assert "Your place is booked" in page.locator(".govuk-notification-banner").inner_text()
    assert "Booked" in page.locator("table").first.inner_text()
    assert_accessible(page)

    # The session is now full: the colleague joins the waiting list.
    db.session.commit()  # a fresh transaction that sees the browser's booking
    assert book_place(session, colleague, colleague).status == WAITING
    db.session.commit()

    assert deliver_outbox()[0] >= 2
    [confirmation] = mailbox.to("lena@northbridge.example")
    assert str(confirmation["Subject"]).strip() == "Booking confirmed: Safeguarding Level 3 on 22 March 2027"
    assert "Vegetarian lunch" in confirmation.get_body(preferencelist=("plain",)).get_content()
    invite = _calendar(confirmation)
    assert invite["METHOD"] == "REQUEST"
    uid = str(invite.walk("VEVENT")[0]["UID"])

    page.get_by_role("link", name="Cancel Safeguarding Level 3 on 22 March 2027").click()
    assert page.locator("h1").inner_text() == "Cancel your booking"
    assert "You can cancel without charge until 15 March 2027" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Cancel booking").click()
    assert "Your booking is cancelled" in page.locator(".govuk-notification-banner").inner_text()
    assert "Cancelled" in page.locator("main").inner_text()
    assert_accessible(page)

    db.session.commit()
    states = {b.user_id: b.status for b in db.session.scalars(select(Booking).where(Booking.session_id == session.id))}
    assert states[lena.id] == CANCELLED and states[colleague.id] == CONFIRMED

    deliver_outbox()
    cancelled = mailbox.to("lena@northbridge.example")[-1]
    cancel_invite = _calendar(cancelled)
    assert cancel_invite["METHOD"] == "CANCEL" and str(cancel_invite.walk("VEVENT")[0]["UID"]) == uid
    promoted = [m for m in mailbox.to("kasia@northbridge.example") if "A place has come up" in str(m["Subject"])]
    assert len(promoted) == 1 and _calendar(promoted[0])["METHOD"] == "REQUEST"

    # The colleague sees the place in their bookings.
    page.context.clear_cookies()
    sign_in(page, colleague.email)
    page.goto("/my-bookings")
    assert "Booked" in page.locator("table").first.inner_text()
    assert_accessible(page)


def test_the_other_booking_pages_are_accessible(app, browser_page, make_user, make_agency, make_sector):
    clock.set_now(NOW)
    police = make_agency(name="Metropolitan Police North", sector="Police")
    course = Course(code="L12", title="Safeguarding Level 1 and 2 (online)", is_online=True)
    db.session.add(course)
    session = _session(capacity=1, reservations=[Reservation(sector=police.sector, places=1)])
    manager_course = Course(code="SCR", title="Serious Case Review workshop", requires_manager_approval=True)
    approval_session = Session(course=manager_course, capacity=5, status=PUBLISHED, starts_at=START,
                               ends_at=START + timedelta(hours=3))
    approval_session.parts = [SessionPart(starts_at=START, ends_at=START + timedelta(hours=3))]
    db.session.add(approval_session)
    db.session.commit()
    officer = make_user(name="Olu Dunmore", agency=police)
    waiting = make_user(name="Wendy Wetherall", agency=police)
    admin = make_user(name="Adaeze Fairweather", roles=("admin",))
    booked = book_place(session, officer, officer)
    queued = book_place(session, waiting, waiting)
    needs_manager = book_place(approval_session, waiting, waiting)
    record_completion(officer, course, NOW.date(), "ELN-1", officer)
    db.session.commit()
    token = approvals.approval_token(needs_manager, approvals.AGREE)
    page = browser_page

    page.goto(f"/approvals/{token}")
    assert page.locator("h1").inner_text() == "Agree to this place"
    assert_accessible(page)

    sign_in(page, officer.email)
    for path, heading in [
        (f"/bookings/{booked.id}/substitute", "Send a colleague instead"),
        ("/my-training/online", "Record online training"),
        (f"/sessions/{approval_session.id}/book", "Check and confirm your booking"),
    ]:
        page.goto(path)
        assert page.locator("h1").inner_text() == heading
        assert_accessible(page)
    # A session they would be refused on says why instead of offering "Book a place".
    page.goto(f"/sessions/{session.id}")
    assert "You already have a place on this session." in page.locator("[data-refusal]").inner_text()
    assert page.get_by_role("button", name="Book a place").count() == 0
    assert_accessible(page)
    page.goto(f"/bookings/{booked.id}/substitute")
    page.get_by_label("Your colleague’s work e-mail address").fill("nobody@example.org")
    page.get_by_role("button", name="Pass my place to them").click()
    assert "We cannot find an account" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, admin.email)
    for path, heading in [
        ("/admin/bookings", "Bookings by session"),
        (f"/admin/sessions/{session.id}/bookings", "Bookings: Safeguarding Level 3"),
        (f"/admin/bookings/{booked.id}", "Booking history: Olu Dunmore"),
        (f"/admin/bookings/{booked.id}/move", "Move Olu Dunmore’s booking"),
        (f"/admin/bookings/{booked.id}/cancel", "Cancel Olu Dunmore’s booking"),
        (f"/admin/bookings/{queued.id}/promote", "Give Wendy Wetherall a place"),
        ("/admin/completions", "Training recorded by people"),
    ]:
        page.goto(path)
        assert page.locator("h1").inner_text() == heading
        assert_accessible(page)

    # The manager's link after the person cancelled: one clear message.
    db.session.rollback()  # end the test's read transaction: the server has written since
    cancel_booking(needs_manager, waiting)
    db.session.commit()
    page.context.clear_cookies()
    page.goto(f"/approvals/{token}")
    assert page.locator("h1").inner_text() == "This request no longer needs an answer"
    assert "Wendy Wetherall cancelled this place" in page.locator("[data-refusal]").inner_text()
    assert_accessible(page)
