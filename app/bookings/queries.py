"""The bookings domain's reads: a person's bookings and training, a session's lists, the L&D team's tables."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.accounts.models import User, find_user_by_email
from app.bookings.models import (
    ACTIVE_STATES,
    AWAITING_APPROVAL,
    CANCELLED,
    CONFIRMED,
    HOLDS_PLACE,
    OFFERED,
    PRIOR_LEARNING,
    SELF_RECORDED,
    WAITING,
    Booking,
    Completion,
    WorkshopChoice,
)
from app.bookings.places import Availability, availability_for, is_released
from app.calendar import FeedEntry
from app.clock import utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import PUBLISHED, Course, Session, SessionChange
from app.courses.queries import ONE_SESSION_LOADS
from app.extensions import db


def booking_for(session_id: int, user_id: int) -> Booking | None:
    """The person's booking on the session, in any state, read afresh from the database."""
    return db.session.scalar(
        select(Booking)
        .where(Booking.session_id == session_id, Booking.user_id == user_id)
        .execution_options(populate_existing=True)
    )


def free_place(availability: Availability, holder: User | Booking) -> tuple[bool, int | None]:
    """The place a person (or a booking's agency) may fill: (a place?, reservation id or None)."""
    agency = holder.agency
    return availability.place_for(holder.agency_id, agency.sector_id if agency is not None else None)


def place_preview(session: Session, person: User) -> tuple[bool, str]:
    """What booking now would give: (a place?, which place in words) for the confirmation page."""
    availability = availability_for([session])[session.id]
    has_place, reservation_id = free_place(availability, person)
    if not has_place:
        return False, "the waiting list"
    if reservation_id is None:
        return True, "a general place"
    pool = next(p for p in availability.pools if p.reservation_id == reservation_id)
    return True, f"a place reserved for {pool.label}"


def booking_with_session(booking_id: int) -> Booking | None:
    """A booking with its session and all a change to it reads (course, parts, reservations,
    programme), in one statement."""
    return db.session.scalars(
        select(Booking).where(Booking.id == booking_id)
        .options(*(joinedload(Booking.session).options(load) for load in ONE_SESSION_LOADS))
    ).unique().one_or_none()


def waiting_list(session: Session) -> list[Booking]:
    """The session's waiting list in the order people joined."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status == WAITING)
            .order_by(Booking.waiting_since, Booking.id)
            # Who may fill a place depends on the person and their agency: read with the list.
            .options(joinedload(Booking.user).joinedload(User.agency))
            .execution_options(populate_existing=True)
        )
    )


def waiting_counts(sessions: list[Session]) -> dict[int, int]:
    """How many people wait on each of the sessions, by session id (sessions nobody waits on left out)."""
    if not sessions:
        return {}
    return dict(db.session.execute(
        select(Booking.session_id, func.count())
        .where(Booking.session_id.in_([s.id for s in sessions]), Booking.status == WAITING)
        .group_by(Booking.session_id)
    ).all())


def sessions_with_waiting(only_released: bool = False) -> list[int]:
    """Ids of upcoming published sessions with someone waiting and a place free (only those whose
    reserved places have become general places, with `only_released`), soonest first."""
    now = utcnow()
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(
                Session.status == PUBLISHED,
                Session.starts_at > now,
                Session.id.in_(select(Booking.session_id).where(Booking.status == WAITING)),
            )
            .order_by(Session.starts_at)
        )
    )
    if only_released:
        sessions = [s for s in sessions if is_released(s, now)]
    free = availability_for(sessions, now)
    return [s.id for s in sessions if free[s.id].left > 0]


def sessions_with_changes_to_tell() -> list[int]:
    """Ids of the sessions with a change nobody has been told about yet."""
    return list(db.session.scalars(
        select(SessionChange.session_id)
        .where(SessionChange.notified_at.is_(None))
        .group_by(SessionChange.session_id)
        .order_by(SessionChange.session_id)
    ))


def approvals_past_due() -> list[int]:
    """Ids of the bookings whose line manager has not answered by the due time, longest overdue first."""
    return list(db.session.scalars(
        select(Booking.id)
        .where(Booking.status == AWAITING_APPROVAL, Booking.approval_due_at <= utcnow())
        .order_by(Booking.approval_due_at, Booking.id)
    ))


def offers_past_expiry() -> list[int]:
    """Ids of the offered places nobody answered by their expiry, longest expired first."""
    return list(db.session.scalars(
        select(Booking.id)
        .where(Booking.status == OFFERED, Booking.offer_expires_at <= utcnow())
        .order_by(Booking.offer_expires_at, Booking.id)
    ))


def confirmed_places_starting_within(days: int, now: datetime) -> list[tuple[Booking, Session]]:
    """Confirmed places on published sessions starting in the `days` days after `now`, soonest first."""
    return list(db.session.execute(
        select(Booking, Session)
        .join(Session, Booking.session_id == Session.id)
        .where(
            Booking.status == CONFIRMED,
            Session.status == PUBLISHED,
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=days),
        )
        .order_by(Session.starts_at, Booking.id)
    ).all())


def bookings_on(session: Session, states: Iterable[str]) -> list[Booking]:
    """A session's bookings in the given states, in the order they were made."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status.in_(tuple(states)))
            .order_by(Booking.waiting_since, Booking.created_at, Booking.id)
        )
    )


def active_bookings_on(session: Session, *, fresh: bool = False) -> list[Booking]:
    """A session's active bookings (places held and waiting) by id; `fresh` re-reads them."""
    query = (select(Booking)
             .where(Booking.session_id == session.id, Booking.status.in_(ACTIVE_STATES))
             .order_by(Booking.id))
    if fresh:
        query = query.execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def bookings_for(person: User) -> tuple[list[Booking], list[Booking]]:
    """A person's bookings: (upcoming, past), soonest first and latest first."""
    now = utcnow()
    # The page shows each booking's course, date and venue: loaded with it, not one at a time.
    bookings = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.user_id == person.id)
        .options(contains_eager(Booking.session).joinedload(Session.course),
                 contains_eager(Booking.session).joinedload(Session.venue),
                 # Conferences' programmes and the person's workshops (check-in codes and programmes).
                 contains_eager(Booking.session).selectinload(Session.programme),
                 selectinload(Booking.workshop_choices).joinedload(WorkshopChoice.item))
        .order_by(Session.starts_at)
    ).all()
    upcoming = [b for b in bookings if b.session.starts_at and b.session.starts_at > now]
    past = [b for b in bookings if not (b.session.starts_at and b.session.starts_at > now)]
    return upcoming, list(reversed(past))


def can_change(booking: Booking) -> bool:
    """True when the person may still cancel or pass on this booking."""
    starts_at = booking.session.starts_at
    return booking.status in ACTIVE_STATES and starts_at is not None and starts_at > utcnow()


def sessions_for_moving(booking: Booking) -> list[Session]:
    """Other open sessions of the same course a booking could move to."""
    return list(
        db.session.scalars(
            select(Session)
            .where(
                Session.course_id == booking.session.course_id,
                Session.id != booking.session_id,
                Session.status == PUBLISHED,
                Session.starts_at > utcnow(),
            )
            .order_by(Session.starts_at)
        )
    )


def admin_sessions(show_past: bool, now: datetime) -> list[Session]:
    """The L&D team's list of sessions: upcoming soonest first, or past latest first (at most 200)."""
    query = select(Session).where(Session.starts_at.is_not(None))
    query = query.where(Session.starts_at <= now) if show_past else query.where(Session.starts_at > now)
    query = query.order_by(Session.starts_at.desc() if show_past else Session.starts_at).limit(200)
    return list(db.session.scalars(query))


def find_person(email: str) -> User | None:
    """The account with this e-mail address, ignoring case and spaces."""
    return find_user_by_email(email) if email and email.strip() else None


def person_with_calendar(token: str) -> User | None:
    """The person whose secret calendar address ends in `token`, or None."""
    return db.session.scalar(select(User).where(User.calendar_token == token)) if token else None


def calendar_entries(person: User) -> list[FeedEntry]:
    """The sessions in a person's calendar feed: the joining link for confirmed places only, and a
    place awaiting the line manager (or offered, not yet accepted) as tentative."""
    bookings = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.user_id == person.id, Session.status != "draft")
        .where(
            Booking.status.in_(HOLDS_PLACE)
            | ((Booking.status == CANCELLED) & (Session.status == SESSION_CANCELLED))
        )
        .order_by(Session.starts_at)
    ).all()
    return [FeedEntry(b.session, joining_link=b.status == CONFIRMED and b.session.status == PUBLISHED,
                      tentative=b.status in (AWAITING_APPROVAL, OFFERED)) for b in bookings]


def training_recorded_by(person: User) -> list[Completion]:
    """Training the person recorded themselves (not attended here), latest first."""
    return list(db.session.scalars(
        select(Completion).where(Completion.user_id == person.id, Completion.booking_id.is_(None))
        .options(joinedload(Completion.course))
        .order_by(Completion.completed_on.desc())
    ))


def online_courses() -> list[Course]:
    """The online courses still offered, by title."""
    return list(db.session.scalars(
        select(Course).where(Course.is_online.is_(True), Course.retired_at.is_(None)).order_by(Course.title)
    ))


def has_online_courses() -> bool:
    """True when at least one online course is still offered."""
    return bool(db.session.scalar(
        select(func.count()).select_from(Course).where(Course.is_online.is_(True), Course.retired_at.is_(None))
    ))


def current_courses() -> list[Course]:
    """Every course still offered, by title."""
    return list(db.session.scalars(select(Course).where(Course.retired_at.is_(None)).order_by(Course.title)))


def completions_to_check(show_all: bool) -> list[Completion]:
    """Training people recorded themselves, latest first (at most 500): unchecked only unless `show_all`."""
    query = select(Completion).where(Completion.source.in_((SELF_RECORDED, PRIOR_LEARNING)))
    if not show_all:
        query = query.where(Completion.checked_at.is_(None))
    return list(db.session.scalars(query.order_by(Completion.created_at.desc()).limit(500)))


def sessions_open_to_book(now: datetime | None = None) -> list[Session]:
    """Upcoming published sessions of courses booked on a date, soonest first (at most 300)."""
    return list(db.session.scalars(
        select(Session).join(Course, Session.course_id == Course.id)
        .where(Session.status == PUBLISHED, Session.starts_at > (now or utcnow()), Course.is_online.is_(False))
        .options(joinedload(Session.course))
        .order_by(Session.starts_at, Session.id).limit(300)
    ))


def waiting_positions(bookings: Iterable[Booking]) -> dict[int, int]:
    """Each waiting booking's place in its session's waiting list (1: next), by booking id, in one
    statement however many there are (a window over the waiting lists of their sessions)."""
    waiting = [b for b in bookings if b.status == WAITING and b.waiting_since is not None]
    if not waiting:
        return {}
    ranked = (
        select(Booking.id, func.row_number().over(
            partition_by=Booking.session_id, order_by=(Booking.waiting_since, Booking.id)).label("position"))
        .where(Booking.session_id.in_({b.session_id for b in waiting}), Booking.status == WAITING,
               Booking.waiting_since.is_not(None))
        .subquery()
    )
    return dict(db.session.execute(
        select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_([b.id for b in waiting]))).all())
