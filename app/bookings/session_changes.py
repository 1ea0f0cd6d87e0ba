"""A session changed or was cancelled by the L&D team: tell everyone booked, cancel their bookings if it is off."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.bookings import notifications as notify
from app.bookings.booking import lock_session
from app.bookings.errors import BookingError
from app.bookings.history import change_status
from app.bookings.models import CANCELLED, CONFIRMED, HOLDS_PLACE
from app.bookings.queries import active_bookings_on
from app.clock import utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Session, SessionChange
from app.extensions import db


def _pending_changes(session: Session) -> list[SessionChange]:
    return list(
        db.session.scalars(
            select(SessionChange)
            .where(SessionChange.session_id == session.id, SessionChange.notified_at.is_(None))
            .order_by(SessionChange.id)
            .execution_options(populate_existing=True)
        )
    )


def _mark_changes_notified(session: Session) -> None:
    now = utcnow()
    for change in _pending_changes(session):
        change.notified_at = now


def cancel_session_bookings(session: Session, actor: User | None) -> int:
    """Cancel every booking and waiting place on a cancelled session, without charge, telling each person."""
    session = lock_session(session.id)
    if session.status != SESSION_CANCELLED:
        raise BookingError("Cancel the session itself first; then its bookings can be cancelled.")
    count = 0
    for booking in active_bookings_on(session, fresh=True):
        held_place = booking.status in HOLDS_PLACE
        invited = booking.status == CONFIRMED
        booking.cancelled_at = utcnow()
        booking.late_cancellation = False
        note = "Session cancelled" + (f": {session.cancellation_reason}" if session.cancellation_reason else "")
        change_status(booking, CANCELLED, actor, note)
        notify.notify_session_cancelled(booking, held_place, invited=invited)
        count += 1
    _mark_changes_notified(session)
    return count


def apply_session_changes(session: Session) -> int:
    """Tell everyone booked about a session's pending changes; cancel their bookings if it was cancelled."""
    session = lock_session(session.id)
    if session.status == SESSION_CANCELLED:
        return cancel_session_bookings(session, None)
    changes = _pending_changes(session)
    if not changes:
        return 0
    bookings = active_bookings_on(session)
    for booking in bookings:
        notify.notify_session_changed(booking, changes)
    _mark_changes_notified(session)
    return len(bookings)
