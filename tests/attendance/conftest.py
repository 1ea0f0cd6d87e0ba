"""Factories for registers and attendance: courses, sessions with dated parts, bookings.

Bookings are made directly (the booking services belong to the bookings domain).
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader


from app.bookings.models import CONFIRMED, Booking
from app.clock import london_to_utc
from app.courses.models import PUBLISHED, Course, Level, Session, SessionPart, Venue
from app.extensions import db

# A Wednesday; sessions in tests start at 9:30 UK time on this day unless said.
DAY = datetime(2027, 3, 3, 9, 30)


def at_london(moment: datetime) -> datetime:
    """Naive UTC for a UK wall-clock time (for set_now)."""
    return london_to_utc(moment)


@pytest.fixture
def only_test_gates():
    """Certificate gates for this test alone (other domains register theirs at import)."""
    from app.attendance.certificates import certificate_gates

    saved = list(certificate_gates)
    certificate_gates.clear()
    yield certificate_gates
    certificate_gates[:] = saved


@pytest.fixture
def make_course(app):
    counter = {"n": 0}

    def _make(title: str = "Safeguarding Level 3", charge_pence: int = 7500,
              refresher_months: int | None = 36, hours: str = "6", level: str | None = "Level 3",
              **fields) -> Course:
        counter["n"] += 1
        level_obj = None
        if level:
            level_obj = db.session.query(Level).filter_by(name=level).one_or_none() or Level(name=level)
        course = Course(code=fields.pop("code", f"C{counter['n']:03d}"), title=title,
                        non_attendance_charge_pence=charge_pence, refresher_months=refresher_months,
                        duration_hours=Decimal(hours), level=level_obj, **fields)
        db.session.add(course)
        db.session.flush()
        return course

    return _make


@pytest.fixture
def make_session(app, make_course):
    def _make(course: Course | None = None, start: datetime = DAY, days: int = 1, hours: int = 6,
              trainers=(), venue: str | None = "Northbridge Civic Centre, Room 2",
              status: str = PUBLISHED, capacity: int = 24, every_days: int = 7) -> Session:
        course = course or make_course()
        session = Session(course=course, capacity=capacity, status=status)
        if venue:
            session.venue = Venue(name=venue, address="1 High Street, Northbridge NB1 1AA")
        for index in range(days):
            begins = london_to_utc(start + timedelta(days=index * every_days))
            session.parts.append(SessionPart(starts_at=begins, ends_at=begins + timedelta(hours=hours)))
        session.starts_at = session.parts[0].starts_at
        session.ends_at = session.parts[-1].ends_at
        session.trainers = list(trainers)
        db.session.add(session)
        db.session.commit()
        return session

    return _make


@pytest.fixture
def make_booking(app):
    def _make(session: Session, person, status: str = CONFIRMED, **fields) -> Booking:
        booking = Booking(session=session, user=person, agency_id=fields.pop("agency_id", person.agency_id),
                          status=status, **fields)
        db.session.add(booking)
        db.session.commit()
        return booking

    return _make


def pdf_text(data: bytes) -> str:
    """The text of a PDF, as pypdf extracts it."""
    assert data[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
