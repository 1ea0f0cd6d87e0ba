"""A place changes hands or dates: passed to a colleague, or moved to another session by the L&D team."""
from __future__ import annotations

from app.accounts.models import ADMIN, User
from app.bookings import notifications as notify
from app.bookings.booking import lock_session, refreshed, request_approval, write_booking
from app.bookings.eligibility import eligibility_problem
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
    TRANSFERRED,
    WAITING,
    Booking,
)
from app.bookings.places import availability_for
from app.bookings.queries import booking_for, free_place
from app.bookings.waiting_list import promote_from_waiting_list
from app.clock import utcnow
from app.courses.models import PUBLISHED, Session
from app.extensions import db
from app.locking import lock_rows
from app.templating import format_datetime


def substitute_colleague(booking: Booking, colleague: User | None, actor: User) -> Booking:
    """Pass a place to a colleague from the same agency instead: free, and the place moves with it."""
    # People before the session, the order book_place locks them in.
    lock_rows(User, [booking.user_id] + ([colleague.id] if colleague is not None else []))
    session = lock_session(booking.session_id)
    booking = refreshed(booking)
    if actor.id != booking.user_id and not actor.has_role(ADMIN):
        raise BookingError("You can only pass on your own place.")
    original = booking.user
    # Someone outside the agency gets the same answer as an unknown address: this page must not
    # tell anyone who has an account, or name the person behind an address.
    if colleague is None or original.agency_id is None or colleague.agency_id != original.agency_id:
        agency = original.agency.name if original.agency else "your agency"
        raise BookingError(f"We cannot find an account with that e-mail address at {agency}. You can "
                           "only pass your place to a colleague from the same agency; if they have no "
                           "account, ask them to register first.", "email")
    if booking.status == WAITING:
        raise BookingError("You are on the waiting list, so there is no place to pass on yet.")
    if booking.status == OFFERED:
        raise BookingError("This place is only offered to you: accept it first, or let it pass so it goes to the "
                           "next person on the waiting list.")
    if booking.status not in HOLDS_PLACE:
        raise BookingError("Only a booked place can be passed to a colleague.")
    if colleague.id == booking.user_id:
        raise BookingError("Enter your colleague’s e-mail address, not your own.", "email")
    problem = eligibility_problem(session, colleague, ignore_window=True, allow_waiting_here=True,
                                  needs_manager=booking.status == AWAITING_APPROVAL, you=False)
    if problem:
        raise BookingError(problem, "email")
    status, reservation_id, overbooked = booking.status, booking.reservation_id, booking.overbooked
    change_status(booking, TRANSFERRED, actor, f"Place passed to {colleague.name}")
    booking.cancelled_at = utcnow()
    booking.late_cancellation = False
    db.session.flush()
    new, event = write_booking(session, colleague, status, actor, f"Place passed on by {original.name}",
                               reservation_id=reservation_id, overbooked=overbooked)
    if status == AWAITING_APPROVAL:
        request_approval(new, session)
        notify.notify_manager_asked(new, event, substitute_for=original)
    notify.notify_substituted(booking, new, event)
    return new


def move_booking(booking: Booking, to_session: Session, actor: User, *, overbook: bool = False) -> Booking:
    """Move a person's booking to another session of the same course (L&D team)."""
    if to_session.id == booking.session_id:
        raise BookingError("Choose a different session to move them to.", "session_id")
    locked = {s.id: s for s in lock_rows(Session, [booking.session_id, to_session.id])}
    old_session, to_session = locked[booking.session_id], locked[to_session.id]
    booking = refreshed(booking)
    person = booking.user
    if booking.status not in ACTIVE_STATES:
        raise BookingError(f"This booking is {STATE_LABELS[booking.status].lower()}, so it cannot be moved.")
    if to_session.course_id != old_session.course_id:
        raise BookingError("A booking can only move to another session of the same course.", "session_id")
    if to_session.status != PUBLISHED or to_session.starts_at is None or to_session.starts_at <= utcnow():
        raise BookingError("That session is not open: it is cancelled, not published or has started.",
                           "session_id")
    if to_session.closed_to_agency_id is not None and to_session.closed_to_agency_id != person.agency_id:
        raise BookingError(f"That session is only for staff of {to_session.closed_to_agency.name}, and "
                           f"{person.name} is not one of them.", "session_id")
    existing = booking_for(to_session.id, person.id)
    if existing is not None and existing.status in ACTIVE_STATES:
        raise BookingError(f"{person.name} already has a booking on that session.", "session_id")
    has_place, reservation_id = free_place(availability_for([to_session])[to_session.id], booking)
    overbooked = False
    if not has_place:
        if not overbook:
            raise BookingError("The new session has no place for them. Tick ‘overbook’ to move them anyway.",
                               "overbook")
        reservation_id, overbooked = None, True
    held_place = booking.status in HOLDS_PLACE
    invited = booking.status == CONFIRMED
    if booking.status in (WAITING, OFFERED):
        status = AWAITING_APPROVAL if to_session.course.requires_manager_approval else CONFIRMED
    else:
        status = booking.status
    booking.cancelled_at = utcnow()
    change_status(booking, CANCELLED, actor, f"Moved to the session on {format_datetime(to_session.starts_at)}")
    db.session.flush()
    new, event = write_booking(
        to_session, person, status, actor,
        f"Moved from the session on {format_datetime(old_session.starts_at)}"
        + (", over capacity (overbooked)" if overbooked else ""),
        reservation_id=reservation_id, overbooked=overbooked, access_needs=booking.access_needs,
    )
    new.agency_id = booking.agency_id
    if status == AWAITING_APPROVAL:
        request_approval(new, to_session)
        notify.notify_manager_asked(new, event)
    elif booking.approved_at:
        new.approved_at = booking.approved_at
    notify.notify_moved(booking, new, invited, event)
    if held_place:
        promote_from_waiting_list(old_session)
    return new
