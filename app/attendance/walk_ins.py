"""Walk-ins: people who came without a confirmed place, put on the register as attended."""
from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.addresses import check_not_generic, email_matches_agency, normalise_email
from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.models import ACTIVE, PENDING_APPROVAL, Agency, User, find_user_by_email
from app.attendance.dates import session_days
from app.attendance.errors import AttendanceError
from app.attendance.outcomes import record_outcome
from app.attendance.register import check_can_mark, lock_register
from app.bookings.history import change_status
from app.bookings.models import ATTENDED, CONFIRMED, Booking
from app.clock import utcnow
from app.courses.models import Session
from app.extensions import db


# The walk-in search shows a handful of people to a trainer, never the whole directory.
SEARCH_MIN_CHARACTERS = 3


SEARCH_MAX_PEOPLE = 10


def add_walk_in(session: Session, person: User, actor: User) -> Booking:
    """Put someone who came without a confirmed place on the register, as attended."""
    check_can_mark(session, actor)
    lock_register(session)
    if person.status != ACTIVE and person.status != PENDING_APPROVAL:
        raise AttendanceError(f"{person.name}’s account is closed. Ask the L&D team to reopen it.")
    booking = db.session.scalar(
        select(Booking).where(Booking.session_id == session.id, Booking.user_id == person.id)
    )
    if booking is not None and booking.status == CONFIRMED:
        raise AttendanceError(f"{person.name} is already on the register.")
    return put_on_register_as_walk_in(session, person, booking, actor)


def put_on_register_as_walk_in(session: Session, person: User, booking: Booking | None,
                                actor: User) -> Booking:
    """Confirm a place for the person (a new booking or their existing one) and mark it attended."""
    reason = f"Walk-in on the day, added by {actor.name}"
    if booking is None:
        booking = Booking(session=session, user=person, agency_id=person.agency_id,
                          booked_by_id=actor.id, created_at=utcnow())
    booking.walk_in = True
    booking.late_cancellation = False
    change_status(booking, CONFIRMED, actor, reason)
    db.session.add(booking)
    db.session.flush()
    record_outcome(booking, ATTENDED, actor, reason)
    return booking


def register_walk_in(
    session: Session, actor: User, *, name: str, email: str, job_title: str, agency: Agency | None
) -> Booking:
    """Create an account for a walk-in who has none (checked as registration checks it) and add them."""
    check_can_mark(session, actor)
    if not (name or "").strip():
        raise AttendanceError("Enter the person’s full name", "name")
    try:
        address = normalise_email(email or "")
        check_not_generic(address)
    except AccountError as exc:
        raise AttendanceError(exc.message, "email") from exc
    if find_user_by_email(address):
        raise AttendanceError(
            "An account already uses this e-mail address. Search for the person instead.", "email"
        )
    if not (job_title or "").strip():
        raise AttendanceError("Enter the person’s job title", "job_title")
    if agency is None or not agency.active:
        raise AttendanceError("Select the agency the person works for", "agency_id")
    person = User(
        name=name.strip(), email=address, job_title=job_title.strip(), agency=agency,
        # Same rule as registration: an address outside the agency's domains waits for approval.
        status=ACTIVE if email_matches_agency(address, agency) else PENDING_APPROVAL,
        created_at=utcnow(),
    )
    db.session.add(person)
    db.session.flush()
    days = session_days(session)
    record_event(person, actor, "registered",
                 f"Walk-in at {session.course.title}" + (f" on {days[0]:%-d %B %Y}" if days else ""))
    return add_walk_in(session, person, actor)


def find_people(query: str) -> list[User]:
    """Find up to ten people by part of their name or e-mail address, for adding a walk-in.

    A trainer may search, but not list the directory: at least three characters, at most ten
    people.
    """
    text = (query or "").strip().lower()
    if len(text) < SEARCH_MIN_CHARACTERS:
        return []
    return list(db.session.scalars(
        select(User)
        .where(func.lower(User.name).contains(text, autoescape=True)
               | func.lower(User.email).contains(text, autoescape=True))
        .where(User.status.in_((ACTIVE, PENDING_APPROVAL)))
        .order_by(User.name, User.id)
        .limit(SEARCH_MAX_PEOPLE)
    ))
