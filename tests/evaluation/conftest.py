"""Factories for evaluation tests: courses, sessions with parts, bookings with an attendance outcome,
and a helper that answers an evaluation by question key."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from app.accounts.models import User
from app.bookings.history import change_status, set_outcome
from app.bookings.models import ATTENDED, CONFIRMED, Booking
from app.clock import utcnow
from app.courses.models import PUBLISHED, Course, Session, SessionPart
from app.evaluation.models import STAGE_ONE, Invitation
from app.evaluation.services import (
    ensure_default_question_sets,
    field_name,
    questions_for,
    submit_response,
)
from app.extensions import db

# A Tuesday in March 2027: sessions end at 16:30 UTC.
SESSION_END = datetime(2027, 3, 2, 16, 30)

STAGE_ONE_DEFAULTS = {
    "knowledge_before": "2", "knowledge_after": "4", "confidence_before": "2",
    "confidence_after": "4", "outcomes_met": "4", "content": "4", "trainer": "5",
    "materials": "4", "venue": "3", "relevance": "5", "multi_agency": "4",
    "apply_plan": "Check the chronology before strategy meetings.",
}
STAGE_TWO_DEFAULTS = {"applied": "yes", "confidence_now": "4"}


@pytest.fixture
def make_course(app):
    counter = {"n": 0}

    def _make(title: str | None = None, delay_months: int = 3, **fields) -> Course:
        counter["n"] += 1
        course = Course(code=f"C{counter['n']:03d}", title=title or f"Course {counter['n']}",
                        evaluation_delay_months=delay_months, **fields)
        db.session.add(course)
        db.session.flush()
        return course

    return _make


@pytest.fixture
def make_session(app, make_course):
    def _make(course: Course | None = None, ends_at: datetime = SESSION_END, days: int = 1,
              capacity: int = 20) -> Session:
        course = course or make_course()
        session = Session(course=course, capacity=capacity, status=PUBLISHED)
        # A two-day session has two parts; the session ends when its last part ends.
        for day in range(days):
            end = ends_at - timedelta(days=days - 1 - day)
            session.parts.append(SessionPart(starts_at=end - timedelta(hours=7), ends_at=end))
        session.starts_at = session.parts[0].starts_at
        session.ends_at = session.parts[-1].ends_at
        db.session.add(session)
        db.session.flush()
        return session

    return _make


@pytest.fixture
def make_attendee(app, make_agency):
    """A person who only follows e-mailed links: no password (hashing one costs half a second)."""
    counter = {"n": 0}

    def _make(name: str | None = None, email: str | None = None, agency=None,
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
    def _make(session: Session, person=None, outcome: str | None = ATTENDED,
              walk_in: bool = False) -> Booking:
        person = person or make_attendee()
        booking = Booking(session_id=session.id, user_id=person.id, agency_id=person.agency_id,
                          walk_in=walk_in)
        db.session.add(booking)
        change_status(booking, CONFIRMED, None, "test")
        if outcome:
            set_outcome(booking, outcome, None, "test register")
        db.session.commit()
        return booking

    return _make


@pytest.fixture
def question_sets(app):
    ensure_default_question_sets()
    db.session.commit()


def answer_by_key(invitation: Invitation, now: datetime | None = None, fill: bool = True, **answers):
    """Submit an invitation's answers given by question key (lists for choose-many)."""
    defaults = STAGE_ONE_DEFAULTS if invitation.stage == STAGE_ONE else STAGE_TWO_DEFAULTS
    merged = {**(defaults if fill else {}), **answers}
    raw = {}
    for question in questions_for(invitation):
        value = merged.get(question.key)
        if value is None:
            continue
        raw[field_name(question)] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    response = submit_response(invitation, raw, now=now)
    db.session.commit()
    return response


def link_in(message) -> str:
    """The evaluation link in an e-mail's plain-text body, as a path."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/evaluation/(?:answer|manager)/\S+)", body)
    assert match, body
    return match.group(1)
