"""Interest in a course: a person asks to be told when sessions are published.

Open to a signed-in person when the course has no upcoming date with a place they could take (no
date yet, or every date full for them). When a session of the course is published
(`scheduling.publish_sessions`), each interested person who holds no place on the course is
e-mailed once about that session (`tell_interested`); the interest stays until they withdraw it
from My bookings, so they also hear of later dates (not while they hold a place on the course).
"""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import ACTIVE, User
from app.clock import utcnow
from app.courses.availability import booking_facts
from app.courses.models import Course, CourseInterest, Session
from app.courses.notifications import notify_interested
from app.courses.problems import CourseError
from app.courses.queries import bookable_dates_for, interest_of
from app.extensions import db


def register_interest(course: Course, person: User) -> CourseInterest:
    """Ask to be told when a session of the course is published (no date yet, or all full)."""
    if course.is_retired or course.is_online:
        raise CourseError("You cannot register interest in this course: it is not booked on a date.")
    existing = interest_of(course, person)
    if existing is not None:
        return existing
    if bookable_dates_for(course, person):
        raise CourseError("This course has a date with a place for you: book it instead.")
    interest = CourseInterest(course_id=course.id, user_id=person.id, created_at=utcnow())
    db.session.add(interest)
    db.session.flush()
    return interest


def withdraw_interest(course: Course, person: User) -> None:
    """Stop being told about new sessions of the course."""
    interest = interest_of(course, person)
    if interest is None:
        raise CourseError("You had not registered interest in this course.")
    db.session.delete(interest)
    db.session.flush()


def tell_interested(session: Session) -> int:
    """E-mail everyone interested in the session's course (once per session) that it is published;
    not those already holding a place on the course, or whose account is not active."""
    interests = list(db.session.scalars(
        select(CourseInterest).join(User, CourseInterest.user_id == User.id)
        .where(CourseInterest.course_id == session.course_id, User.status == ACTIVE)
        .order_by(CourseInterest.id)))
    if not interests:
        return 0
    placed = booking_facts().people_with_place_on(session.course, [i.user_id for i in interests])
    told = 0
    for interest in interests:
        if interest.user_id in placed:
            continue
        told += notify_interested(interest, session)
    return told
