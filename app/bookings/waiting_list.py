"""The waiting list: giving a place that came free to the first waiting person who may fill it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import ACTIVE, User
from app.bookings import notifications as notify
from app.bookings.booking import lock_session, refreshed, request_approval
from app.bookings.errors import BookingError
from app.bookings.history import change_status
from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, OFFERED, WAITING, Booking, BookingEvent
from app.bookings.places import availability_for
from app.bookings.queries import free_place, waiting_list
from app.clock import utcnow
from app.courses.models import PUBLISHED, Session
from app.extensions import db

NO_AUTOMATIC_PROMOTION = timedelta(hours=24)


def _give_place(booking: Booking, session: Session, reservation_id: int | None, actor: User | None,
                reason: str, *, overbooked: bool = False, manager_agreed: bool = False) -> None:
    needs_manager = session.course.requires_manager_approval and not manager_agreed
    booking.reservation_id = reservation_id
    booking.overbooked = overbooked
    status = AWAITING_APPROVAL if needs_manager else CONFIRMED
    event = change_status(booking, status, actor, reason)
    if needs_manager:
        booking.manager_email = booking.user.line_manager_email or booking.manager_email
        request_approval(booking, session)
    else:
        booking.confirmed_at = utcnow()
        if manager_agreed and session.course.requires_manager_approval:
            booking.approved_at = utcnow()
    notify.notify_promoted(booking, event)


def offer_place(booking: Booking, session: Session, reservation_id: int | None, actor: User | None) -> None:
    """Hold a freed place for a waiting person for the course's offer hours (never past the start),
    for them to accept or let pass (the session is locked by the caller)."""
    now = utcnow()
    expires = now + timedelta(hours=session.course.offer_hours)
    booking.reservation_id = reservation_id
    booking.offer_expires_at = min(expires, session.starts_at) if session.starts_at else expires
    event = change_status(booking, OFFERED, actor, "A place came free: offered from the waiting list until "
                          f"{booking.offer_expires_at:%Y-%m-%d %H:%M} UTC")
    notify.notify_offered(booking, event)


def _session_event_mark(session: Session) -> int:
    """The latest history row of any booking on the session: marks 'this state of the session'."""
    return db.session.scalar(
        select(func.max(BookingEvent.id))
        .join(Booking, BookingEvent.booking_id == Booking.id)
        .where(Booking.session_id == session.id)
    ) or 0


def promote_from_waiting_list(session: Session, actor: User | None = None, *, locked: bool = False) -> list[Booking]:
    """Give free places to waiting people in the order they joined, each in a pool they may fill.

    Within 24 hours of the start nobody is promoted automatically: the L&D team is told instead.
    Where the course uses offers, each is offered the place instead (`offer_place`), to accept or let pass.
    `locked`: the caller has already locked the session row in this transaction.
    """
    if not locked:
        session = lock_session(session.id)
    now = utcnow()
    if session.status != PUBLISHED or session.starts_at is None or session.starts_at <= now:
        return []
    waiting = waiting_list(session)
    if not waiting:
        return []
    availability = availability_for([session], now)[session.id]
    if availability.left == 0:
        return []
    if session.starts_at - now < NO_AUTOMATIC_PROMOTION:
        notify.notify_place_free_late(session, availability.left, len(waiting), _session_event_mark(session))
        return []
    promoted = []
    for booking in waiting:
        if booking.user.status != ACTIVE:
            continue
        has_place, reservation_id = free_place(availability, booking)
        if not has_place:
            continue
        if session.course.uses_offers:
            offer_place(booking, session, reservation_id, actor)
        else:
            _give_place(booking, session, reservation_id, actor, "A place came free: promoted from the waiting list")
        promoted.append(booking)
        availability.take(reservation_id)  # counted here: the session is locked, nobody else gives places
        if availability.left == 0:
            break
    return promoted


def promote_booking(booking: Booking, actor: User, *, overbook: bool = False,
                    manager_agreed: bool = False) -> Booking:
    """Give a waiting person a place by hand (L&D team), even within 24 hours of the start."""
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    if booking.status not in (WAITING, OFFERED):
        raise BookingError(f"{booking.user.name} is not on the waiting list.")
    if session.status != PUBLISHED or session.starts_at is None or session.starts_at <= utcnow():
        raise BookingError("This session has started or is not open, so nobody can be given a place.")
    if booking.status == OFFERED:
        # Their offered place is already held for them: the L&D team gives it outright.
        has_place, reservation_id = True, booking.reservation_id
        booking.offer_expires_at = None
    else:
        has_place, reservation_id = free_place(availability_for([session])[session.id], booking)
    overbooked = False
    if not has_place:
        if not overbook:
            raise BookingError(
                f"There is no free place {booking.user.name} may fill. Tick ‘overbook’ to give them a place anyway.",
                "overbook",
            )
        reservation_id, overbooked = None, True
    reason = "Given a place by the L&D team" + (", over capacity (overbooked)" if overbooked else "")
    _give_place(booking, session, reservation_id, actor, reason, overbooked=overbooked,
                manager_agreed=manager_agreed)
    return booking
