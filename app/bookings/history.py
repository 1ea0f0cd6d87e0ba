"""The one way to change a booking's state or attendance outcome: each change is a history row."""
from __future__ import annotations

from app.accounts.models import User
from app.bookings.models import Booking, BookingEvent
from app.clock import utcnow
from app.extensions import db


def change_status(booking: Booking, status: str, actor: User | None, reason: str = "") -> BookingEvent:
    """Move a booking to `status`, recording who did it and why (actor None: the system).

    Returns the history row (not yet flushed): a message about the change is named by it.
    """
    event = BookingEvent(
        booking=booking,
        actor_id=actor.id if actor else None,
        at=utcnow(),
        from_status=booking.status,
        to_status=status,
        reason=reason,
    )
    booking.status = status
    booking.updated_at = event.at
    db.session.add(event)
    return event


def set_outcome(booking: Booking, outcome: str | None, actor: User | None,
                reason: str = "") -> BookingEvent | None:
    """Record what happened on the day (or clear it), keeping the previous outcome in history.

    Returns the history row, or None when the outcome was already `outcome`.
    """
    if booking.outcome == outcome:
        return None
    now = utcnow()
    event = BookingEvent(
        booking=booking,
        actor_id=actor.id if actor else None,
        at=now,
        from_status=booking.status,
        to_status=booking.status,
        from_outcome=booking.outcome,
        to_outcome=outcome,
        reason=reason,
    )
    db.session.add(event)
    booking.outcome = outcome
    booking.outcome_marked_at = now if outcome else None
    booking.outcome_marked_by_id = actor.id if actor else None
    booking.updated_at = now
    return event
