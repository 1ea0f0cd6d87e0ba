"""Cancelling: a person's own place (late inside the notice period) or leaving the waiting list."""
from __future__ import annotations

from datetime import date

from app.accounts.models import ADMIN, User
from app.bookings import notifications as notify
from app.bookings.booking import lock_session, refreshed
from app.bookings.errors import BookingError
from app.bookings.history import change_status
from app.bookings.models import (
    ACTIVE_STATES,
    AWAITING_APPROVAL,
    CANCELLED,
    CONFIRMED,
    HOLDS_PLACE,
    OFFERED,
    STATE_LABELS,
    WAITING,
    Booking,
)
from app.bookings.waiting_list import promote_from_waiting_list
from app.bookings.working_days import cancellation_deadline
from app.clock import today_london, utcnow
from app.courses.models import Session


def is_late_cancellation(session: Session, today: date | None = None) -> bool:
    """True once the course's notice period (working days) before the start has begun."""
    if session.starts_at is None:
        return False
    deadline = cancellation_deadline(session.starts_at, session.course.cancellation_notice_days)
    return (today or today_london()) > deadline


def cancel_booking(booking: Booking, actor: User, reason: str = "", *,
                   leaving_waiting_list: bool = False, by_coordinator: bool = False) -> Booking:
    """Cancel a place (late inside the course's notice period) or leave the waiting list.

    `leaving_waiting_list`: the person asked to leave the waiting list, so a place that came up for
    them before the lock was taken is kept, not cancelled. `by_coordinator`: their agency's
    coordinator cancels for them (bookings.on_behalf checks they coordinate the person's agency).
    """
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    is_admin = actor.has_role(ADMIN)
    if actor.id != booking.user_id and not is_admin and not by_coordinator:
        raise BookingError("You can only cancel your own booking.")
    if leaving_waiting_list and booking.status in HOLDS_PLACE:
        raise BookingError("A place came up for you just before you left the waiting list, so you now have a "
                           "place on this session and we have e-mailed you about it. If you cannot go, cancel "
                           "the booking.")
    if booking.status not in ACTIVE_STATES:
        raise BookingError(f"This booking cannot be cancelled: it is {STATE_LABELS[booking.status].lower()}.")
    if session.starts_at is not None and session.starts_at <= utcnow():
        raise BookingError("This session has already started, so the booking can no longer be cancelled. "
                           "Contact the L&D team.")
    held_place = booking.status in HOLDS_PLACE
    invited = booking.status == CONFIRMED  # a place held for the manager was never in their calendar
    awaiting_manager = booking.status == AWAITING_APPROVAL
    late = booking.status == CONFIRMED and is_late_cancellation(session)
    booking.cancelled_at = utcnow()
    booking.late_cancellation = late
    booking.cancellation_reason = reason.strip()
    by = "their agency’s coordinator" if by_coordinator and not is_admin else "the L&D team"
    who = "Cancelled" if actor.id == booking.user_id else f"Cancelled by {by}"
    if booking.status in (WAITING, OFFERED):
        who = "Left the waiting list" if actor.id == booking.user_id else f"Taken off the waiting list by {by}"
    note = who + (" inside the notice period (late cancellation)" if late else "")
    if reason.strip():
        note += f": {reason.strip()}"
    event = change_status(booking, CANCELLED, actor, note)
    notify.notify_cancelled(booking, held_place, event, invited=invited)
    if awaiting_manager and booking.manager_email:
        notify.notify_manager_request_withdrawn(booking, event, by_person=actor.id == booking.user_id)
    if held_place:
        promote_from_waiting_list(session, locked=True)
    return booking
