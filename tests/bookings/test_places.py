"""The quota arithmetic: reserved pools, general places, and release before the start."""
from datetime import datetime, timedelta

from app.bookings.models import CONFIRMED, WAITING, Booking
from app.bookings.places import FEW, FULL, availability_for, booking_state
from app.courses.models import PUBLISHED, Course, Reservation, Session, SessionPart
from app.extensions import db

START = datetime(2027, 3, 10, 9, 30)


def _session(capacity, reservations):
    course = Course(code="L3", title="Safeguarding Level 3")
    session = Session(course=course, capacity=capacity, status=PUBLISHED, starts_at=START,
                      ends_at=START + timedelta(hours=7), reservation_release_days=7)
    session.parts = [SessionPart(starts_at=START, ends_at=START + timedelta(hours=7))]
    for sector, places in reservations:
        session.reservations.append(Reservation(sector=sector, places=places))
    db.session.add(session)
    db.session.flush()
    return session


def _book(session, person, reservation=None, status=CONFIRMED):
    db.session.add(Booking(session=session, user=person, agency_id=person.agency_id, status=status,
                           reservation_id=reservation.id if reservation else None))
    db.session.flush()


def test_reserved_pools_are_for_their_sector_until_release(app, make_user, make_agency, set_now):
    health, police = make_agency(sector="Health - acute"), make_agency(sector="Police")
    session = _session(4, [(health.sector, 2)])
    set_now(START - timedelta(days=20))
    nurse, officer = make_user(agency=health), make_user(agency=police)

    a = availability_for([session])[session.id]
    assert (a.left, a.general_left) == (4, 2)
    assert a.left_for(police.id, police.sector_id) == 2
    assert a.left_for(health.id, health.sector_id) == 4
    assert a.place_for(health.id, health.sector_id) == (True, session.reservations[0].id)

    _book(session, officer)
    _book(session, make_user(agency=police))
    a = availability_for([session])[session.id]
    assert a.left_for(police.id, police.sector_id) == 0
    assert a.place_for(police.id, police.sector_id) == (False, None)
    assert a.left_for(health.id, health.sector_id) == 2
    assert booking_state(session, a) == FEW  # two left

    set_now(START - timedelta(days=7))  # released: the two reserved places are anyone's
    a = availability_for([session])[session.id]
    assert a.left_for(police.id, police.sector_id) == 2
    assert a.place_for(police.id, police.sector_id) == (True, None)
    assert nurse.id


def test_waiting_bookings_hold_no_place_and_a_full_session_says_so(app, make_user, make_agency, set_now):
    agency = make_agency(sector="Police")
    session = _session(1, [])
    set_now(START - timedelta(days=20))
    _book(session, make_user(agency=agency))
    _book(session, make_user(agency=agency), status=WAITING)
    a = availability_for([session])[session.id]
    assert (a.taken, a.left) == (1, 0)
    assert booking_state(session, a) == FULL
