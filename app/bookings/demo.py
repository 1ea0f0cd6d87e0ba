"""Demo bookings: full sessions with waiting lists, places awaiting managers, past sessions attended
by people from many agencies, the demo learner's own bookings, and online Level 1/2 completions.

Written as rows with their history (no e-mails are queued for invented people).
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.bookings.history import change_status
from app.bookings.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CONFIRMED,
    HOLDS_PLACE,
    OFFERED,
    WAITING,
    Booking,
    Completion,
    WorkshopChoice,
)
from app.bookings.places import availability_for
from app.bookings.working_days import working_days_later
from app.bookings.workshops import slots
from app.clock import utcnow
from app.courses.models import PUBLISHED, Course, CourseInterest, Session
import app.courses.demo  # noqa: F401  (registers the programme's demo step before this one)
from app.demo import demo_step
from app.extensions import db


DEMO_LEARNER = "learner@northbridge-council.example"


def _book(session: Session, person: User, status: str, moment, reason: str) -> Booking | None:
    availability = availability_for([session], moment)[session.id]
    agency = person.agency
    has_place, reservation_id = availability.place_for(person.agency_id, agency.sector_id if agency else None)
    if status != WAITING and not has_place:
        status = WAITING
    booking = Booking(session_id=session.id, user_id=person.id, agency_id=person.agency_id,
                      created_at=moment, booked_by_id=person.id, manager_email=person.line_manager_email,
                      reservation_id=reservation_id if status != WAITING else None,
                      waiting_since=moment if status == WAITING else None)
    change_status(booking, status, person, reason)
    booking.events[-1].at = moment
    if status == CONFIRMED:
        booking.confirmed_at = moment
        booking.approved_at = moment if session.course.requires_manager_approval else None
    elif status == AWAITING_APPROVAL:
        booking.approval_requested_at = moment
        booking.approval_due_at = min(working_days_later(moment, 5), session.starts_at)
    db.session.add(booking)
    db.session.flush()
    return booking


@demo_step
def load_bookings(rng: random.Random) -> str:
    """Bookings across agencies, waiting lists, managers' approvals and online completions."""
    now = utcnow()
    people = list(db.session.scalars(select(User).where(User.email_verified_at.is_not(None)).order_by(User.id)))
    learner = next((p for p in people if p.email == DEMO_LEARNER), None)
    crowd = [p for p in people if p is not learner]
    completions = 0
    for course in db.session.scalars(select(Course).where(Course.is_online.is_(True)).order_by(Course.id)):
        for person in rng.sample(people, k=min(len(people), max(len(people) * 2 // 3, 1))):
            db.session.add(Completion(
                user_id=person.id, course_id=course.id, source="self_recorded",
                completed_on=(now - timedelta(days=rng.randint(20, 700))).date(),
                evidence=f"ELN-{rng.randint(100000, 999999)}",
                checked_at=now - timedelta(days=rng.randint(1, 15)) if rng.random() < 0.6 else None,
            ))
            completions += 1
    db.session.flush()
    sessions = list(db.session.scalars(
        select(Session)
        .join(Course, Session.course_id == Course.id)
        .where(Session.status == PUBLISHED, Course.is_online.is_(False), Session.starts_at.is_not(None))
        .order_by(Session.starts_at)
    ))
    if not sessions or not crowd:
        return f"{completions} online completions; no sessions to book yet"
    past = [s for s in sessions if s.starts_at <= now]
    upcoming = [s for s in sessions if s.starts_at > now]
    done: dict[int, set[int]] = {}
    for user_id, course_id in db.session.execute(select(Completion.user_id, Completion.course_id)):
        done.setdefault(user_id, set()).add(course_id)
    upcoming_courses: set[tuple[int, int]] = set()  # nobody holds two future dates of one course

    def may_book(person: User, session: Session) -> bool:
        if person in session.trainers:  # a trainer does not book a place on her own session
            return False
        if session.closed_to_agency_id not in (None, person.agency_id):  # a closed session is for its agency only
            return False
        needed = {c.id for c in session.course.prerequisites}
        if not needed <= done.get(person.id, set()):
            return False
        return not (session.starts_at > now and (person.id, session.course_id) in upcoming_courses)

    bookings = 0
    for session in past:
        candidates = [p for p in crowd if may_book(p, session)]
        for person in rng.sample(candidates, k=min(len(candidates), max(session.capacity * 3 // 4, 1))):
            moment = session.starts_at - timedelta(days=rng.randint(15, 40))
            bookings += _book(session, person, CONFIRMED, moment, "Booked") is not None
    for index, session in enumerate(upcoming):
        full = index % 3 == 0  # every third upcoming session is full, with people waiting
        wanted = session.capacity + 3 if full else max(session.capacity // 2, 1)
        moment = now - timedelta(days=2)
        candidates = [p for p in rng.sample(crowd, k=len(crowd)) if may_book(p, session)][:wanted]
        for person in candidates:
            upcoming_courses.add((person.id, session.course_id))
            status = CONFIRMED
            if session.course.requires_manager_approval and rng.random() < 0.25:
                status = AWAITING_APPROVAL
                moment = now - timedelta(hours=rng.randint(2, 40))
            bookings += _book(session, person, status, moment, "Booked") is not None
            moment += timedelta(minutes=rng.randint(5, 90))
    if learner is not None:
        mine = [s for s in upcoming if s.id not in {
            b.session_id for b in db.session.scalars(select(Booking).where(Booking.user_id == learner.id))
        }]
        taken_courses: set[int] = set()
        chosen = []
        for session in mine:
            has_room = availability_for([session], now)[session.id].left > 0
            if session.course_id not in taken_courses and has_room and may_book(learner, session):
                upcoming_courses.add((learner.id, session.course_id))
                chosen.append(session)
                taken_courses.add(session.course_id)
            if len(chosen) == 2:
                break
        for number, session in enumerate(chosen):
            status = AWAITING_APPROVAL if number == 1 and session.course.requires_manager_approval else CONFIRMED
            bookings += _book(session, learner, status, now - timedelta(days=1), "Booked") is not None
    db.session.flush()
    return f"{bookings} bookings on {len(sessions)} sessions, {completions} online completions"


@demo_step
def load_offers_and_interest(rng: random.Random) -> str:
    """A course that offers freed places (one offer open now) and people waiting to hear of new dates."""
    now = utcnow()
    offers = 0
    full_sessions = list(db.session.scalars(
        select(Session).join(Booking, Booking.session_id == Session.id)
        .where(Session.status == PUBLISHED, Session.starts_at > now + timedelta(days=3), Booking.status == WAITING)
        .group_by(Session.id).order_by(Session.starts_at)))
    if full_sessions:
        session = full_sessions[0]
        session.course.uses_offers = True
        leaving = db.session.scalar(select(Booking).where(
            Booking.session_id == session.id, Booking.status == CONFIRMED).order_by(Booking.id.desc()))
        first = db.session.scalar(select(Booking).where(
            Booking.session_id == session.id, Booking.status == WAITING).order_by(Booking.waiting_since, Booking.id))
        if leaving is not None and first is not None:
            moment = now - timedelta(hours=3)
            change_status(leaving, CANCELLED, leaving.user, "Cancelled").at = moment
            leaving.cancelled_at = moment
            first.reservation_id = leaving.reservation_id
            first.offer_expires_at = min(moment + timedelta(hours=session.course.offer_hours), session.starts_at)
            change_status(first, OFFERED, None, "A place came free: offered from the waiting list").at = moment
            offers = 1
    upcoming = set(db.session.scalars(select(Session.course_id).where(
        Session.status == PUBLISHED, Session.starts_at > now)))
    quiet = [c for c in db.session.scalars(select(Course).where(
        Course.is_online.is_(False), Course.retired_at.is_(None)).order_by(Course.id)) if c.id not in upcoming]
    people = list(db.session.scalars(select(User).where(User.email_verified_at.is_not(None)).order_by(User.id)))
    interests = 0
    for course in quiet[:4]:
        for person in rng.sample(people, k=min(len(people), rng.randint(2, 7))):
            db.session.add(CourseInterest(course_id=course.id, user_id=person.id,
                                          created_at=now - timedelta(days=rng.randint(1, 60))))
            interests += 1
    db.session.flush()
    return f"{offers} open offer, {interests} people interested in {min(len(quiet), 4)} courses with no date"


def choose_conference_workshops(rng: random.Random) -> str:
    """People with a place at a conference choose a workshop in each slot (most of them)."""
    chosen = 0
    conferences = [s for s in db.session.scalars(select(Session).where(Session.status == PUBLISHED)
                                                 .order_by(Session.id)) if s.is_conference]
    for session in conferences:
        groups = slots(session)
        left = {w.id: w.capacity or 0 for slot in groups for w in slot.workshops}
        holders = db.session.scalars(select(Booking).where(Booking.session_id == session.id,
                                                           Booking.status.in_(HOLDS_PLACE))
                                     .order_by(Booking.id)).all()
        for booking in holders:
            if rng.random() < 0.1:
                continue  # some never choose: they go to the plenaries only
            for slot in groups:
                open_ones = [w for w in slot.workshops if left[w.id] > 0]
                if open_ones:
                    workshop = rng.choice(open_ones)
                    left[workshop.id] -= 1
                    booking.workshop_choices.append(WorkshopChoice(item_id=workshop.id,
                                                                   chosen_at=booking.created_at))
                    chosen += 1
    db.session.flush()
    return f"{chosen} workshop choices at {len(conferences)} conferences"
