"""Factories for the programme rows bookings need (made directly: the programme's services are
built in parallel), and helpers to read the messages and invitations that arrive."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from app.accounts.models import Agency, Sector
from app.courses.models import PUBLISHED, Course, Reservation, Session, SessionPart, Venue
from app.extensions import db

# Monday 1 March 2027, 9am UK (GMT): "now" in most tests; sessions start three weeks later.
NOW = datetime(2027, 3, 1, 9, 0)
START = datetime(2027, 3, 22, 9, 30)


@pytest.fixture
def now(set_now):
    set_now(NOW)
    return NOW


@pytest.fixture
def make_course(app):
    counter = {"n": 0}

    def _make(title: str = "Safeguarding Level 3", *, requires_manager_approval: bool = False,
              is_online: bool = False, cancellation_notice_days: int = 5,
              prerequisites: tuple[Course, ...] = ()) -> Course:
        counter["n"] += 1
        course = Course(code=f"C{counter['n']}", title=title, is_online=is_online,
                        requires_manager_approval=requires_manager_approval,
                        cancellation_notice_days=cancellation_notice_days)
        course.prerequisites = list(prerequisites)
        db.session.add(course)
        db.session.commit()
        return course

    return _make


@pytest.fixture
def make_session(app, make_course):
    def _make(capacity: int = 10, *, course: Course | None = None, starts_at: datetime = START,
              hours: int = 6, days: int = 1, reservations=(), status: str = PUBLISHED,
              booking_opens_at: datetime | None = None, booking_closes_at: datetime | None = None,
              reservation_release_days: int = 7, online_url: str = "", joining_instructions: str = "",
              venue: bool = True) -> Session:
        course = course or make_course()
        session = Session(
            course=course, capacity=capacity, status=status, starts_at=starts_at,
            ends_at=starts_at + timedelta(days=days - 1, hours=hours),
            booking_opens_at=booking_opens_at, booking_closes_at=booking_closes_at,
            reservation_release_days=reservation_release_days, online_url=online_url,
            joining_instructions=joining_instructions,
            venue=Venue(name="Northbridge Civic Centre", address="1 High Street\nNorthbridge NB1 1AA")
            if venue else None,
        )
        session.parts = [
            SessionPart(starts_at=starts_at + timedelta(days=d), ends_at=starts_at + timedelta(days=d, hours=hours))
            for d in range(days)
        ]
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


def invites(message) -> list[tuple[str, Calendar]]:
    """The calendars of a received message, wherever they are: (the MIME method parameter, parsed calendar)."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            found.append((part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))))
    return found


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def subject(message) -> str:
    """The subject as a mail program shows it (a long one is folded onto a second line)."""
    return str(message["Subject"]).strip()
