"""The suite's one set of factories for the programme and its bookings (fixtures that return callables).

Rows are made directly, not through the services under test. Times are naive UTC; `at_london(...)`
turns a UK wall-clock time into one. Defaults are the plain case: a published, face-to-face,
one-day session of six hours, a course that needs no manager's approval, a confirmed booking.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.accounts.models import Agency, Sector, User
from app.bookings.history import change_status, set_outcome
from app.bookings.models import CONFIRMED, Booking
from app.clock import london_to_utc, utcnow
from app.courses.models import (
    PLENARY,
    PUBLISHED,
    WORKSHOP,
    Course,
    Level,
    ProgrammeItem,
    Reservation,
    Session,
    SessionPart,
    Venue,
)
from app.extensions import db

# Monday 22 March 2027, 9:30 (GMT, so the same in UTC): when a session starts unless said.
START = datetime(2027, 3, 22, 9, 30)


def at_london(moment: datetime) -> datetime:
    """Naive UTC for a UK wall-clock time."""
    return london_to_utc(moment)


@pytest.fixture
def make_level(app):
    def _make(name: str = "Level 3", *, intercollegiate: str = "", position: int = 0) -> Level:
        level = db.session.query(Level).filter_by(name=name).one_or_none()
        if level is None:
            level = Level(name=name, intercollegiate_level=intercollegiate, position=position)
            db.session.add(level)
            db.session.flush()
        return level

    return _make


@pytest.fixture
def make_venue(app):
    def _make(name: str = "Civic Centre", address: str = "1 Town Hall Square\nNorthbridge NB1 1AA", *,
              access_information: str = "Step-free entrance.") -> Venue:
        venue = Venue(name=name, address=address, access_information=access_information)
        db.session.add(venue)
        db.session.flush()
        return venue

    return _make


@pytest.fixture
def make_course(app, make_level):
    counter = {"n": 0}

    def _make(title: str = "Safeguarding Level 3", code: str | None = None, level: str | Level | None = None,
              *, hours: str | int = "6", charge_pence: int = 0, refresher_months: int | None = None,
              requires_manager_approval: bool = False, prerequisites: tuple[Course, ...] = (),
              **fields) -> Course:
        counter["n"] += 1
        course = Course(
            code=code or f"C{counter['n']:03d}", title=title,
            level=make_level(level) if isinstance(level, str) else level,
            duration_hours=Decimal(str(hours)), non_attendance_charge_pence=charge_pence,
            refresher_months=refresher_months, requires_manager_approval=requires_manager_approval,
            **fields,
        )
        course.prerequisites = list(prerequisites)
        db.session.add(course)
        db.session.commit()  # a test's refused service call rolls back; the course must outlive it
        return course

    return _make


@pytest.fixture
def make_session(app, make_course):
    """make_session(course, capacity=2, starts_at=START, days=2, every_days=7, reservations=[(sector, 1)]).

    `ends_at` places the session by when its last part ends instead of by when it starts.
    """

    def _make(course: Course | None = None, starts_at: datetime | None = None, *, ends_at: datetime | None = None,
              capacity: int = 20, hours: int = 6, days: int = 1, every_days: int = 1, status: str = PUBLISHED,
              venue: str | Venue | None = "Northbridge Civic Centre", trainers: tuple[User, ...] = (),
              reservations=(), **fields) -> Session:
        session = Session(course=course or make_course(), capacity=capacity, status=status, **fields)
        if isinstance(venue, str):
            venue = Venue(name=venue, address="1 High Street\nNorthbridge NB1 1AA")
        session.venue = venue
        if ends_at is not None:
            starts_at = ends_at - timedelta(days=(days - 1) * every_days, hours=hours)
        starts_at = starts_at or START
        for day in range(days):
            begins = starts_at + timedelta(days=day * every_days)
            session.parts.append(SessionPart(starts_at=begins, ends_at=begins + timedelta(hours=hours)))
        session.starts_at = session.parts[0].starts_at
        session.ends_at = session.parts[-1].ends_at
        session.trainers = list(trainers)
        for owner, places in reservations:
            if isinstance(owner, Agency):
                session.reservations.append(Reservation(agency=owner, places=places))
            elif isinstance(owner, Sector):
                session.reservations.append(Reservation(sector=owner, places=places))
            else:
                raise TypeError("a reservation is for an Agency or a Sector")
        db.session.add(session)
        db.session.commit()
        return session

    return _make


@pytest.fixture
def make_attendee(app, make_agency):
    """A person who only follows e-mailed links: no password (hashing one costs half a second)."""
    counter = {"n": 0}

    def _make(name: str | None = None, email: str | None = None, agency: Agency | None = None,
              line_manager_email: str = "") -> User:
        counter["n"] += 1
        person = User(name=name or f"Attendee {counter['n']}",
                      email=(email or f"attendee{counter['n']}@example.org").lower(),
                      agency=agency or make_agency(), job_title="Social worker",
                      line_manager_name="Manager" if line_manager_email else "",
                      line_manager_email=line_manager_email, email_verified_at=utcnow())
        db.session.add(person)
        db.session.commit()
        return person

    return _make


@pytest.fixture
def make_booking(app, make_attendee):
    """make_booking(session, person, outcome=ATTENDED); history=True records the status and outcome
    as the register does (with status history rows) instead of setting them on the row."""

    def _make(session: Session, person: User | None = None, *, status: str = CONFIRMED,
              outcome: str | None = None, agency: Agency | None = None, history: bool = False,
              **fields) -> Booking:
        person = person or make_attendee()
        booking = Booking(session=session, user=person, agency_id=(agency or person.agency).id, **fields)
        db.session.add(booking)
        if history:
            change_status(booking, status, None, "test")
            if outcome:
                set_outcome(booking, outcome, None, "test register")
        else:
            booking.status, booking.outcome = status, outcome
        db.session.commit()
        return booking

    return _make


@pytest.fixture
def make_conference(app, make_session, make_course):
    """make_conference(workshop_places=2): a one-day conference with a plenary at 9:30, two
    workshops at 11:00 (A1, A2), two at 14:00 (B1, B2), each with `workshop_places` places, and a
    closing plenary at 16:00. Extra keywords go to make_session."""

    def _make(*, workshop_places: int = 2, starts_at: datetime | None = None, **fields) -> Session:
        starts_at = starts_at or START
        fields.setdefault("capacity", 200)
        session = make_session(make_course("Annual Safeguarding Conference", hours=7), starts_at, hours=7, **fields)
        day = starts_at.replace(hour=0, minute=0)

        def item(kind, hour, minute, hours, title, leads="", places=None):
            begins = day + timedelta(hours=hour, minutes=minute)
            return ProgrammeItem(kind=kind, starts_at=begins, ends_at=begins + timedelta(hours=hours),
                                 title=title, leads=leads, room="Main hall" if kind == PLENARY else "",
                                 capacity=places)

        session.programme = [
            item(PLENARY, 9, 30, 1.5, "Opening: learning from local reviews", "Dr Ada Example, Independent Chair"),
            item(WORKSHOP, 11, 0, 1.5, "A1 Neglect", "Sam Pattern", workshop_places),
            item(WORKSHOP, 11, 0, 1.5, "A2 Online harm", "Kit Placeholder", workshop_places),
            item(WORKSHOP, 14, 0, 1.5, "B1 Voice of the child", "Lee Sample", workshop_places),
            item(WORKSHOP, 14, 0, 1.5, "B2 Domestic abuse", "Jo Instance", workshop_places),
            item(PLENARY, 16, 0, 0.5, "Closing plenary"),
        ]
        db.session.commit()
        return session

    return _make
