"""Writing a booking: `book_place`, and the steps every change to a booking takes.

Every service that gives out a place locks the session row (`lock_session`), then re-counts
places inside the lock, then writes: two people can never both take the last place. What needs no
lock (reading, asking who may book) comes before it, so that in a rush the row is held briefly.
Services add and flush; the view or job that called them commits once.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ADMIN, User
from app.bookings import notifications as notify
from app.bookings.eligibility import (
    BOOKING_ID,
    UNREAD,
    and_list,
    ask_eligibility,
    missing_prerequisites,
)
from app.bookings.errors import BookingError
from app.bookings.history import change_status
from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, HOLDS_PLACE, WAITING, Booking, BookingEvent
from app.bookings.places import availability_from_facts, held_place_facts
from app.bookings.queries import booking_for
from app.bookings.working_days import working_days_later
from app.clock import utcnow
from app.courses.models import Session
from app.courses.queries import ONE_SESSION_LOADS
from app.extensions import db
from app.locking import (
    holds_write_lock,
    lock_loaded,
    lock_rows,
    locks_are_shared,
    queue_behind,
    trade_for_exclusive,
)

APPROVAL_WORKING_DAYS = 5

BookingOutcome = Callable[[str | None, BookingError | None], None]
_outcome_listeners: list[BookingOutcome] = []


def on_booking_outcome(listener: BookingOutcome) -> BookingOutcome:
    """Call `listener(status, None)` after every booking `book_place` writes (before the commit), and
    `listener(None, refusal)` for every one it refuses (operations counts them)."""
    if listener not in _outcome_listeners:
        _outcome_listeners.append(listener)
    return listener


def lock_session(session_id: int) -> Session:
    """Lock the session row for this transaction (capacity is re-counted inside the lock), read with
    its course, parts, reservations and programme (what the messages and the re-count read)."""
    locked = lock_rows(Session, [session_id], ONE_SESSION_LOADS)
    if not locked:
        raise BookingError("This session no longer exists.", kind="session_gone")
    return locked[0]


def refreshed(booking: Booking) -> Booking:
    """Read the booking again, as it is now that the session is locked."""
    if holds_write_lock() and not sa_inspect(booking).expired_attributes:
        return booking  # read in this transaction, which has held the only write lock all along
    fresh = db.session.scalar(
        select(Booking).where(Booking.id == booking.id).execution_options(populate_existing=True)
    )
    if fresh is None:
        raise BookingError("This booking no longer exists.")
    return fresh


def request_approval(booking: Booking, session: Session) -> None:
    """Start the line manager's request: asked now, due in 5 working days or at the start."""
    now = utcnow()
    booking.approval_requested_at = now
    due = working_days_later(now, APPROVAL_WORKING_DAYS)
    booking.approval_due_at = min(due, session.starts_at) if session.starts_at else due


def write_booking(
    session: Session,
    person: User,
    status: str,
    actor: User | None,
    reason: str,
    *,
    reservation_id: int | None = None,
    overbooked: bool = False,
    access_needs: str = "",
    existing: Booking | None | object = UNREAD,
) -> tuple[Booking, BookingEvent]:
    """Create (or reuse: one row per person per session) the person's booking in `status`, with its
    history row (`existing`: their row on the session, or None, when the caller has just read it)."""
    now = utcnow()
    booking = booking_for(session.id, person.id) if existing is UNREAD else existing
    fresh = booking is None
    if fresh:
        booking = Booking(session_id=session.id, user_id=person.id, created_at=now)
    booking.agency_id = person.agency_id
    booking.reservation_id = reservation_id if status in HOLDS_PLACE else None
    booking.waiting_since = now if status == WAITING else None
    booking.booked_by_id = actor.id if actor else None
    booking.overbooked = overbooked
    booking.access_needs = access_needs.strip()
    booking.manager_email = person.line_manager_email or ""
    booking.approval_requested_at = booking.approval_due_at = booking.approved_at = None
    booking.offer_expires_at = None
    booking.confirmed_at = now if status == CONFIRMED else None
    booking.cancelled_at = None
    booking.late_cancellation = False
    booking.cancellation_reason = ""
    event = change_status(booking, status, actor, reason)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # The same person's other request inserted first (every caller locks the person before
        # reading their row, so this is a safety net). No savepoint: a refusal rolls the whole
        # change back anyway, and a savepoint costs two more statements while the session is locked.
        if fresh:
            raise BookingError("You already have a booking on this session.", kind="not_booked_here") from exc
        raise
    return booking, event


def book_place(
    session: Session,
    person: User,
    actor: User,
    *,
    access_needs: str = "",
    on_behalf: bool = False,
    overbook: bool = False,
    manager_agreed: bool = False,
    prerequisite_override: str = "",
    note: str = "",
) -> Booking:
    """Give a person a place on a session, or a place on its waiting list when it is full for them.

    `on_behalf` (the L&D team) ignores the booking window; `overbook` gives a place even when none
    is free; `manager_agreed` records that the line manager has already agreed;
    `prerequisite_override` (the L&D team, with a reason) books them without a missing prerequisite.
    `note` is added to the history row (who booked for them, say).
    """
    try:
        booking = _book_place(session, person, actor, access_needs=access_needs, on_behalf=on_behalf,
                              overbook=overbook, manager_agreed=manager_agreed,
                              prerequisite_override=prerequisite_override, note=note)
    except BookingError as refusal:
        for listener in _outcome_listeners:
            listener(None, refusal)
        raise
    for listener in _outcome_listeners:
        listener(booking.status, None)
    return booking


def _sector_of(session: Session, person: User) -> int | None:
    """The person's agency's sector, which decides the reserved places they may fill (read only
    when the session has some)."""
    return person.agency.sector_id if session.reservations and person.agency is not None else None


def _place_for(session: Session, person: User, facts: dict, sector_id: int | None) -> tuple[bool, int | None]:
    """The place the person would fill, by the places held in `facts`: (a place?, reservation id)."""
    return availability_from_facts(session, facts).place_for(person.agency_id, sector_id)


def _locked_and_asked(session: Session, person: User, asked: dict, *, shared: bool) -> tuple[dict, int | None]:
    """Lock the session (its columns read again, the relationships loaded with it kept), then ask
    who may book and read the places held again, in one statement; the facts, and the sector."""
    seen_at = session.updated_at
    if not lock_loaded(session, shared=shared):
        raise BookingError("This session no longer exists.", kind="session_gone")
    return _asked_again(session, person, asked, seen_at)


def _asked_again(session: Session, person: User, asked: dict, seen_at) -> tuple[dict, int | None]:
    if session.updated_at != seen_at:
        # Reservations change only with the session row (scheduling stamps updated_at).
        db.session.refresh(session, attribute_names=["reservations"])
    refusal, facts = ask_eligibility(session, person, also=held_place_facts(session), **asked)
    if refusal:
        raise BookingError(refusal[1], kind=refusal[0])
    return facts, _sector_of(session, person)


def _book_place(session: Session, person: User, actor: User, *, access_needs: str, on_behalf: bool,
                overbook: bool, manager_agreed: bool, prerequisite_override: str, note: str = "") -> Booking:
    override = prerequisite_override.strip()
    if override and not (on_behalf and actor.has_role(ADMIN)):
        raise BookingError("Only the L&D team can book someone without a prerequisite.",
                           kind="prerequisite_override_refused")
    # Everything that does not need the session row locked is read and asked first, so the session
    # row (SQLite: the write lock) is held only for the re-count and the write. The person's own
    # lock comes first: one person's two requests, for two dates of a course, queue there, and in a
    # rush nobody else waits for it. People are locked before sessions, always (substitute_colleague too).
    queue_behind(person)
    course = session.course
    needs_manager = course.requires_manager_approval and not manager_agreed
    asked = dict(ignore_window=on_behalf, needs_manager=needs_manager, you=actor.id == person.id,
                 check_prerequisites=not override)
    # Who may book and the places held, in one statement.
    refusal, facts = ask_eligibility(session, person, also=held_place_facts(session), **asked)
    if refusal:
        raise BookingError(refusal[1], kind=refusal[0])
    overridden = missing_prerequisites(course, person) if override else []
    sector_id = _sector_of(session, person)
    # Asked again once the session is locked, everything another request may have changed
    # meanwhile, unless this transaction has held the only write lock all along (SQLite).
    unchanged_since_read = holds_write_lock()
    has_place, reservation_id = _place_for(session, person, facts, sector_id)
    if not unchanged_since_read:
        # Full for them when asked: joining the waiting list changes no count, so people joining it
        # share the session's lock and do not queue behind one another (PostgreSQL). Only if a
        # place has come up meanwhile do they trade it for the lock of someone taking a place.
        expects_place = overbook or has_place
        facts, sector_id = _locked_and_asked(session, person, asked, shared=not expects_place)
        has_place, reservation_id = _place_for(session, person, facts, sector_id)
        if not expects_place and has_place and locks_are_shared():
            if not trade_for_exclusive(session):
                raise BookingError("This session no longer exists.", kind="session_gone")
            facts, sector_id = _asked_again(session, person, asked, session.updated_at)
            has_place, reservation_id = _place_for(session, person, facts, sector_id)
    elif not lock_loaded(session):
        raise BookingError("This session no longer exists.", kind="session_gone")
    # Their row on the session (a cancelled booking to reuse), read only when there is one.
    mine = None
    if facts[BOOKING_ID] is not None:
        mine = db.session.get(Booking, facts[BOOKING_ID], populate_existing=not unchanged_since_read)
    overbooked = False
    if not has_place and overbook:
        has_place, reservation_id, overbooked = True, None, True
    if has_place:
        status = AWAITING_APPROVAL if needs_manager else CONFIRMED
    else:
        status = WAITING
    if on_behalf:
        reason = "Booked by the L&D team"
        if overbooked:
            reason += ", over capacity (overbooked)"
        if manager_agreed and course.requires_manager_approval:
            reason += "; line manager's agreement recorded by the L&D team"
        if overridden:
            reason += (f"; prerequisite {and_list([c.title for c in overridden])} overridden by the "
                       f"L&D team: {override[:1000]}")
    else:
        reason = "Booked" if has_place else "Joined the waiting list: no place free for them"
    if note:
        reason += f" ({note})"
    booking, event = write_booking(
        session, person, status, actor, reason, reservation_id=reservation_id,
        overbooked=overbooked, access_needs=access_needs, existing=mine,
    )
    if status == AWAITING_APPROVAL:
        request_approval(booking, session)
        notify.notify_manager_asked(booking, event)
        notify.notify_awaiting_manager(booking, event)
    elif status == CONFIRMED:
        if manager_agreed and session.course.requires_manager_approval:
            booking.approved_at = utcnow()
        notify.notify_confirmed(booking, event)
    else:
        notify.notify_waiting(booking, event)
    return booking
