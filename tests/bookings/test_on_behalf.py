"""Coordinators booking, moving and cancelling for their own agency's staff, through the person's rules."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from app.access_log import AccessLogEntry
from app.bookings.errors import BookingError
from app.bookings.models import AWAITING_APPROVAL, CANCELLED, CONFIRMED, WAITING, Booking
from app.bookings.on_behalf import book_for_staff, cancel_for_staff, move_for_staff
from app.bookings.queries import waiting_positions
from app.extensions import db
from tests.bookings.conftest import NOW, START, subject
from tests.statements import statements_of_get


@pytest.fixture
def agency_pair(now, make_agency, make_user):
    """A coordinator of one agency, one of their staff, and someone at another agency."""
    agency, other = make_agency("Northbridge Hospital"), make_agency("Riverside School", sector="Education - schools")
    coordinator = make_user(name="Cora Ndlovu", roles=("coordinator",), agency=agency)
    staff = make_user(name="Sami Ferreira", email="sami@example.org", agency=agency)
    stranger = make_user(name="Tomas Lindqvist", agency=other)
    return coordinator, staff, stranger


def _refused(message: str, func, *args):
    with pytest.raises(BookingError) as caught:
        func(*args)
    db.session.rollback()
    assert message in caught.value.message, caught.value.message


def test_a_coordinator_books_for_their_staff_under_the_same_rules_and_history_names_them(
        app, agency_pair, make_session, make_course, mailbox, deliver):
    coordinator, staff, _ = agency_pair
    session = make_session(make_course(requires_manager_approval=True), capacity=5)

    booking = book_for_staff(coordinator, staff, session)
    db.session.commit()
    # The manager's agreement is still asked: the place is held, not confirmed.
    assert booking.status == AWAITING_APPROVAL and booking.booked_by_id == coordinator.id
    [event] = booking.events
    assert event.actor_id == coordinator.id and "coordinator" in event.reason
    deliver()
    assert any("Please agree" in subject(m) for m in mailbox.to(staff.line_manager_email))
    # Booking them again is refused in words about them, not "you".
    _refused("Sami Ferreira already has a place on this session.", book_for_staff, coordinator, staff, session)


def test_a_coordinator_cannot_act_for_another_agency_or_without_the_role(app, agency_pair, make_session, make_user):
    coordinator, staff, stranger = agency_pair
    session = make_session(capacity=5)
    _refused("We cannot find that person in an agency you coordinate.", book_for_staff, coordinator, stranger, session)
    colleague = make_user(agency=staff.agency)  # same agency, not a coordinator
    _refused("We cannot find that person", book_for_staff, colleague, staff, session)
    booking = Booking(session=session, user=stranger, agency_id=stranger.agency_id, status=CONFIRMED)
    db.session.add(booking)
    db.session.commit()
    _refused("We cannot find that person", cancel_for_staff, coordinator, booking)
    assert db.session.get(Booking, booking.id).status == CONFIRMED


def test_quotas_and_the_window_hold_for_a_coordinator(app, agency_pair, make_session):
    coordinator, staff, _ = agency_pair
    full = make_session(capacity=0)
    assert book_for_staff(coordinator, staff, full).status == WAITING
    db.session.commit()
    closed = make_session(capacity=5, booking_closes_at=NOW - timedelta(days=1), starts_at=START + timedelta(days=7))
    _refused("Booking for this session closed", book_for_staff, coordinator, staff, closed)


def test_a_coordinator_cancels_late_and_it_counts_as_late(app, agency_pair, make_session, set_now):
    coordinator, staff, _ = agency_pair
    session = make_session(capacity=5)
    booking = book_for_staff(coordinator, staff, session)
    db.session.commit()
    set_now(START - timedelta(days=1))
    booking = cancel_for_staff(coordinator, booking, "Off sick")
    db.session.commit()
    assert booking.status == CANCELLED and booking.late_cancellation
    assert booking.events[-1].actor_id == coordinator.id
    assert booking.events[-1].reason.startswith("Cancelled by their agency’s coordinator inside the notice period")


def test_a_coordinator_moves_only_into_a_free_open_place(app, agency_pair, make_session, make_course, make_booking):
    coordinator, staff, _ = agency_pair
    course = make_course()
    first = make_session(course, capacity=5)
    full = make_session(course, capacity=1, starts_at=START + timedelta(days=7))
    later = make_session(course, capacity=5, starts_at=START + timedelta(days=14))
    make_booking(full)
    booking = book_for_staff(coordinator, staff, first)
    db.session.commit()

    _refused("The new session has no place for them", move_for_staff, coordinator, booking, full)
    moved = move_for_staff(coordinator, db.session.get(Booking, booking.id), later)
    db.session.commit()
    assert moved.session_id == later.id and moved.status == CONFIRMED
    assert db.session.get(Booking, booking.id).status == CANCELLED


def test_the_pages_book_for_staff_show_waiting_positions_and_log_access(
        app, agency_pair, client, login_as, make_session, make_booking):
    coordinator, staff, stranger = agency_pair
    session = make_session(capacity=1)
    make_booking(session)
    login_as(coordinator)
    assert client.get(f"/agency/staff/{stranger.id}").status_code == 404
    page = client.get(f"/agency/staff/{staff.id}").get_data(as_text=True)
    assert "Sami Ferreira’s bookings" in page
    response = client.post(f"/agency/staff/{staff.id}", data={"session_id": session.id})
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking).where(Booking.user_id == staff.id))
    assert booking.status == WAITING and booking.booked_by_id == coordinator.id
    page = client.get("/agency").get_data(as_text=True)
    assert "Staff on waiting lists" in page and "Number 1 on the waiting list" in page
    page = client.get(f"/agency/staff/{staff.id}").get_data(as_text=True)
    assert "number 1 on the waiting list" in page
    entries = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.subject_user_id == staff.id)).all()
    assert entries and all(e.viewer_id == coordinator.id for e in entries)
    # An unknown session is a message on the page, not a 500, and changes nothing.
    response = client.post(f"/agency/staff/{staff.id}", data={"session_id": 999999})
    assert response.status_code == 200 and "Choose" in response.get_data(as_text=True)


def test_the_agency_page_shows_each_waiting_persons_place_in_line_in_one_statement(
        app, agency_pair, client, login_as, make_session, make_user, make_booking, now):
    """Positions count only the people waiting ahead on the same session (earlier, or at the same
    moment with an earlier booking); the page asks for them all at once, so it sends as many
    statements for three of the agency's staff waiting as for one."""
    coordinator, staff, stranger = agency_pair
    first, second = make_session(capacity=1), make_session(capacity=1)
    for session in (first, second):
        make_booking(session)
    agency = staff.agency
    colleague = make_user(name="Ada Brennan", agency=agency)
    third = make_user(name="Ravi Shah", agency=agency)
    earlier, later = now - timedelta(hours=2), now - timedelta(hours=1)
    make_booking(first, stranger, status=WAITING, waiting_since=earlier)
    sami = make_booking(first, staff, status=WAITING, waiting_since=later)
    ada = make_booking(first, colleague, status=WAITING, waiting_since=later)  # same moment, booked after Sami
    ravi = make_booking(second, third, status=WAITING, waiting_since=later)
    db.session.flush()
    ids = {"sami": sami.id, "ada": ada.id, "ravi": ravi.id}
    assert waiting_positions([sami, ada, ravi]) == {ids["sami"]: 2, ids["ada"]: 3, ids["ravi"]: 1}
    login_as(coordinator)
    three = statements_of_get(client, "/agency")
    db.session.execute(delete(Booking).where(Booking.id.in_([ids["ada"], ids["ravi"]])))
    one = statements_of_get(client, "/agency")
    assert len(one) == len(three), "\n".join(three)
    assert "Number 2 on the waiting list" in client.get("/agency").get_data(as_text=True)
