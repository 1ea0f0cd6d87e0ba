"""The demo bookings: robust without a programme, and lifelike with one."""
from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from app.bookings.demo import DEMO_LEARNER, load_bookings
from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, HOLDS_PLACE, WAITING, Booking, Completion
from app.bookings.places import availability_for
from app.courses.models import Session
from app.demo import load_people
from app.extensions import db
from tests.bookings.conftest import NOW


def test_without_sessions_it_records_completions_only(app, now, make_course):
    load_people(random.Random(1))
    make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    assert load_bookings(random.Random(1)).endswith("no sessions to book yet")
    assert db.session.scalar(select(Booking.id)) is None
    assert db.session.scalars(select(Completion)).first() is not None


def test_with_sessions_it_fills_some_with_waiting_lists_and_keeps_every_rule(
        app, now, make_course, make_session):
    load_people(random.Random(1))
    online = make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    level3 = make_course("Safeguarding Level 3", prerequisites=(online,), requires_manager_approval=True)
    scr = make_course("Serious Case Review workshop", requires_manager_approval=True)
    make_session(course=level3, capacity=12, starts_at=NOW - timedelta(days=30))
    for days in (10, 20, 30):
        make_session(course=level3, capacity=12, starts_at=NOW + timedelta(days=days))
        make_session(course=scr, capacity=20, starts_at=NOW + timedelta(days=days + 1))

    load_bookings(random.Random(2015))
    db.session.commit()

    sessions = db.session.scalars(select(Session)).all()
    availability = availability_for(sessions)
    for session in sessions:
        assert availability[session.id].taken <= session.capacity
    states = Counter(db.session.scalars(select(Booking.status)))
    assert states[CONFIRMED] and states[WAITING] and states[AWAITING_APPROVAL]
    learner_bookings = db.session.scalars(
        select(Booking).join(Booking.user).where(Booking.user.has(email=DEMO_LEARNER))).all()
    assert len(learner_bookings) == 2 and all(b.status in HOLDS_PLACE for b in learner_bookings)
    # Nobody holds two future dates of a course, and Level 3 people have done Level 1 and 2.
    future = [b for b in db.session.scalars(select(Booking)) if b.session.starts_at > NOW]
    assert len({(b.user_id, b.session.course_id) for b in future}) == len(future)
    done = {c.user_id for c in db.session.scalars(select(Completion).where(Completion.course_id == online.id))}
    assert all(b.user_id in done for b in db.session.scalars(select(Booking)) if b.session.course_id == level3.id)
