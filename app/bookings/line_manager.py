"""The line manager's part: answering a request to agree a place, lapsing an unanswered one, and
asking a new manager when a person's line manager changes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts.details import on_manager_changed
from app.accounts.models import User
from app.bookings import notifications as notify
from app.bookings.approvals import AGREE
from app.bookings.booking import APPROVAL_WORKING_DAYS, lock_session, refreshed, request_approval
from app.bookings.errors import BookingError
from app.bookings.history import change_status
from app.bookings.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CONFIRMED,
    DECLINED,
    LAPSED,
    TRANSFERRED,
    Booking,
)
from app.bookings.waiting_list import promote_from_waiting_list
from app.clock import utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Session
from app.extensions import db
from app.templating import format_date


def _cancelled_by_person(booking: Booking) -> bool:
    cancelled = [e for e in booking.events if e.to_status == CANCELLED]
    return bool(cancelled) and cancelled[-1].actor_id == booking.user_id


def approval_problem(booking: Booking) -> str | None:
    """Say why a manager can no longer answer for this booking, or None."""
    name = booking.user.name
    if booking.status == CONFIRMED:
        return f"You have already agreed: {name}’s place is confirmed."
    if booking.status == DECLINED:
        return f"You have already declined {name}’s booking."
    if booking.status == LAPSED:
        return (f"This request lapsed on {format_date(booking.approval_due_at)} because it was not answered "
                f"within {APPROVAL_WORKING_DAYS} working days. {name} can book again if a place is free.")
    if booking.status == CANCELLED and booking.session.status == SESSION_CANCELLED:
        return "This session has been cancelled, so you do not need to answer."
    if booking.status == CANCELLED:
        who = (f"{name} cancelled this place" if _cancelled_by_person(booking)
               else f"The L&D team cancelled {name}’s place")
        return f"{who} on {format_date(booking.cancelled_at)}, so you do not need to answer."
    if booking.status == TRANSFERRED:
        return f"{name} passed this place to a colleague, so you do not need to answer."
    if booking.status != AWAITING_APPROVAL:
        return f"{name} no longer has this place, so you do not need to answer."
    if booking.session.starts_at is not None and booking.session.starts_at <= utcnow():
        return "The session has started, so it is too late to answer."
    return None


def answer_approval(booking: Booking, decision: str, reason: str = "") -> Booking:
    """Record the line manager's answer: agree confirms the place, decline frees it.

    The request the caller read (the one the manager's link is for) must still be the current one
    once the session is locked: a new manager may have been asked meanwhile.
    """
    requested = booking.approval_requested_at
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    problem = approval_problem(booking)
    if problem:
        raise BookingError(problem)
    if booking.approval_requested_at != requested:
        raise BookingError("This link is for an earlier request that no longer applies: "
                           "the person's line manager has changed.")
    manager = booking.manager_email or "the line manager"
    if decision == AGREE:
        booking.approved_at = booking.confirmed_at = utcnow()
        event = change_status(booking, CONFIRMED, None, f"Line manager ({manager}) agreed")
        notify.notify_manager_agreed(booking, event)
        return booking
    note = f"Line manager ({manager}) declined" + (f": {reason.strip()}" if reason.strip() else "")
    booking.cancellation_reason = reason.strip()
    event = change_status(booking, DECLINED, None, note)
    notify.notify_manager_declined(booking, reason.strip(), event)
    promote_from_waiting_list(session)
    return booking


def lapse_approval(booking: Booking) -> bool:
    """Free a place whose manager did not answer in time; False if it was answered meanwhile."""
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    if booking.status != AWAITING_APPROVAL or booking.approval_due_at is None or booking.approval_due_at > utcnow():
        return False
    event = change_status(booking, LAPSED, None,
                          f"Line manager did not answer within {APPROVAL_WORKING_DAYS} working days")
    booking.cancelled_at = utcnow()
    notify.notify_approval_lapsed(booking, event)
    promote_from_waiting_list(session)
    return True


@on_manager_changed
def reassign_pending_approvals(person: User, actor: User | None) -> list[Booking]:
    """Ask the person's new line manager to agree every place still waiting for the old one.

    Each request starts again: new links (the old manager's stop working, because a link names
    the moment it was asked) and a new due date, 5 working days from now, as a first request has.
    """
    waiting = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.user_id == person.id, Booking.status == AWAITING_APPROVAL,
               Booking.manager_email != (person.line_manager_email or ""),
               Session.starts_at > utcnow())
        .order_by(Booking.id)
    ).all()
    moved = []
    for booking in waiting:
        session = lock_session(booking.session_id)
        booking = refreshed(booking)
        if booking.status != AWAITING_APPROVAL or not person.line_manager_email:
            continue
        asked_before = booking.approval_requested_at
        booking.manager_email = person.line_manager_email
        request_approval(booking, session)
        if asked_before is not None and booking.approval_requested_at <= asked_before:
            # The links name this moment: it must differ from the old request's for them to stop.
            booking.approval_requested_at = asked_before + timedelta(microseconds=1)
        event = change_status(booking, AWAITING_APPROVAL, actor,
                              "Line manager changed: the new line manager was asked to agree")
        notify.notify_manager_asked(booking, event)
        moved.append(booking)
    return moved
