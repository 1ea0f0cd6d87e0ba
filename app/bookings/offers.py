"""Waiting-list offers: a freed place held for the first waiting person, who accepts it or lets it pass.

A course that uses offers (`Course.uses_offers`) does not confirm a freed place outright while the
person may be away (and then charge them as a no-show): `waiting_list.offer_place` holds it for them
(status OFFERED, which `places.py` counts as held, so nobody else can take it) for the course's
`offer_hours`, never past the start, and e-mails signed accept and decline links. Accepting goes
through the normal rules (the line manager is asked where the course needs it); declining leaves
the waiting list; an offer that expires (`expire_offer`, run by a job) puts the person back at the
end of the waiting list. Either way the place is offered to the next person. Every change locks the
session row first and reads the booking again, so accepting and expiring can never both win.
"""
from __future__ import annotations

from app.accounts.models import User
from app.bookings import notifications as notify
from app.bookings.booking import lock_session, refreshed, request_approval
from app.bookings.errors import BookingError
from app.bookings.history import change_status
from app.bookings.models import AWAITING_APPROVAL, CANCELLED, CONFIRMED, OFFERED, STATE_LABELS, WAITING, Booking
from app.bookings.waiting_list import promote_from_waiting_list
from app.clock import utcnow
from app.extensions import db

def offer_problem(booking: Booking) -> str | None:
    """Say why this offer can no longer be answered, or None."""
    if booking.status != OFFERED:
        label = STATE_LABELS.get(booking.status, booking.status).lower()
        return f"This offer no longer applies: the booking is {label}."
    now = utcnow()
    if booking.session.starts_at is not None and booking.session.starts_at <= now:
        return "The session has started, so the offer has ended."
    if booking.offer_expires_at is None or booking.offer_expires_at <= now:
        return "This offer has expired and the place has gone to the next person on the waiting list."
    return None


def _check_answer(booking: Booking, actor: User | None) -> None:
    if actor is not None and actor.id != booking.user_id:
        raise BookingError("Only the person offered the place can answer the offer.")
    problem = offer_problem(booking)
    if problem:
        raise BookingError(problem)


def accept_offer(booking: Booking, actor: User | None = None) -> Booking:
    """Take an offered place: confirmed, or held for the line manager's agreement where the course needs it.

    `actor`: the person signed in, or None when they answer by the e-mailed link.
    """
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    _check_answer(booking, actor)
    booking.offer_expires_at = None
    if session.course.requires_manager_approval:
        booking.manager_email = booking.user.line_manager_email or booking.manager_email
        event = change_status(booking, AWAITING_APPROVAL, actor, "Accepted the offered place")
        request_approval(booking, session)
        notify.notify_manager_asked(booking, event)
        notify.notify_awaiting_manager(booking, event)
    else:
        booking.confirmed_at = utcnow()
        event = change_status(booking, CONFIRMED, actor, "Accepted the offered place")
        notify.notify_confirmed(booking, event)
    return booking


def decline_offer(booking: Booking, actor: User | None = None) -> Booking:
    """Let an offered place pass: the person leaves the waiting list and the next person is offered it."""
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    _check_answer(booking, actor)
    booking.offer_expires_at = None
    booking.reservation_id = None
    booking.cancelled_at = utcnow()
    event = change_status(booking, CANCELLED, actor, "Declined the offered place: left the waiting list")
    notify.notify_offer_declined(booking, event)
    promote_from_waiting_list(session, locked=True)
    return booking


def expire_offer(booking: Booking) -> bool:
    """End an offer nobody answered in time: back to the end of the waiting list, and the place is
    offered to the next person; False if it was answered (or changed) meanwhile."""
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    if booking.status != OFFERED or booking.offer_expires_at is None or booking.offer_expires_at > utcnow():
        return False
    booking.offer_expires_at = None
    booking.reservation_id = None
    booking.waiting_since = utcnow()
    event = change_status(booking, WAITING, None, "The offer of a place expired: back at the end of the waiting list")
    notify.notify_offer_expired(booking, event)
    promote_from_waiting_list(session, locked=True)
    return True
