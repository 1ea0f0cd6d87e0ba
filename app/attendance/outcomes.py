"""Marking attendance: an outcome goes through the booking's history, then sets off what it means.

- attended (or partly attended that an administrator counts as complete) makes a Completion,
  which completes the course for prerequisites and starts the refresher clock;
- did not attend and turned away raise a Charge to the booking's agency (the course's charge per
  session) and may suspend booking after repeated no-shows;
- a correction back to attended voids the charge and removes nothing else from history.
"""
from __future__ import annotations

from app.accounts.models import ADMIN, User
from app.attendance.certificates import issue_certificate
from app.attendance.charges import CHARGE_FOR_OUTCOME, raise_charge, void_charge
from app.attendance.completions import ATTENDANCE_SOURCE, completion_for
from app.attendance.dates import last_day
from app.attendance.errors import AttendanceError
from app.attendance.register import (
    check_can_mark,
    lock_register,
    marking_window,
    register_bookings,
)
from app.attendance.suspensions import (
    NO_SHOW_OUTCOMES,
    review_suspension,
    suspend_if_repeated_no_shows,
)
from app.bookings.history import set_outcome
from app.bookings.models import (
    ATTENDED,
    CONFIRMED,
    OUTCOME_LABELS,
    PARTLY_ATTENDED,
    Booking,
    BookingEvent,
    Completion,
)
from app.clock import today_london, utcnow
from app.courses.models import Session
from app.extensions import db


def record_outcome(
    booking: Booking,
    outcome: str | None,
    actor: User | None,
    reason: str = "",
    counts_as_complete: bool | None = None,
) -> bool:
    """Set a booking's outcome (through its history) and what it sets off; return True if anything changed.

    Partly attended completes the course only when `counts_as_complete` is True (an
    administrator's decision); None keeps the current decision.
    """
    if outcome is not None and outcome not in OUTCOME_LABELS:
        raise AttendanceError("Choose attended, partly attended, did not attend or turned away")
    previous = booking.outcome
    completion = completion_for(booking)
    if outcome == ATTENDED:
        complete = True
    elif outcome == PARTLY_ATTENDED:
        complete = (completion is not None) if counts_as_complete is None else counts_as_complete
    else:
        complete = False
    changed = previous != outcome
    set_outcome(booking, outcome, actor, reason)
    if (
        not changed
        and outcome == PARTLY_ATTENDED
        and complete != (completion is not None)
    ):
        # Not an outcome change, but a decision people will ask about: keep it in the history.
        db.session.add(BookingEvent(
            booking=booking, actor_id=actor.id if actor else None, at=utcnow(),
            from_status=booking.status, to_status=booking.status,
            from_outcome=outcome, to_outcome=outcome,
            reason=("Counted as complete. " if complete else "No longer counted as complete. ") + reason,
        ))
        changed = True
    _sync_completion(booking, completion, complete)
    if outcome in NO_SHOW_OUTCOMES:
        raise_charge(booking, CHARGE_FOR_OUTCOME[outcome])
        if previous not in NO_SHOW_OUTCOMES:
            db.session.flush()
            suspend_if_repeated_no_shows(booking.user)
    else:
        void_charge(booking)
        if previous in NO_SHOW_OUTCOMES:
            db.session.flush()
            review_suspension(booking.user, actor)
    return changed


def _sync_completion(booking: Booking, completion: Completion | None, complete: bool) -> None:
    if complete and completion is None:
        db.session.add(Completion(
            user_id=booking.user_id, course_id=booking.session.course_id,
            completed_on=last_day(booking.session) or today_london(), source=ATTENDANCE_SOURCE,
            booking_id=booking.id, created_at=utcnow(),
        ))
        # The certificate's code is made now, so downloading it later only reads.
        issue_certificate(booking)
    elif not complete and completion is not None:
        db.session.delete(completion)


def mark_register(session: Session, marks: dict[int, str], actor: User) -> int:
    """Mark a session's register all at once (nothing is saved if any mark is wrong); return how many changed."""
    check_can_mark(session, actor)
    lock_register(session)
    on_register = {b.id: b for b in register_bookings(session)}
    for booking_id, outcome in marks.items():
        if booking_id not in on_register:
            raise AttendanceError("Someone on the form is no longer on this register. Reload the page.")
        if outcome not in OUTCOME_LABELS:
            raise AttendanceError(
                f"Choose what happened for {on_register[booking_id].user.name}", f"outcome-{booking_id}"
            )
    changed = 0
    for booking_id, outcome in marks.items():
        if record_outcome(on_register[booking_id], outcome, actor, "Marked on the register"):
            changed += 1
    return changed


def mark_all_attended(session: Session, actor: User) -> int:
    """Mark everyone on the register not yet marked as attended; return how many."""
    check_can_mark(session, actor)
    lock_register(session)
    count = 0
    for booking in register_bookings(session):
        if booking.outcome is None:
            record_outcome(booking, ATTENDED, actor, "Marked on the register: all attended")
            count += 1
    return count


def correct_outcome(
    booking: Booking, outcome: str | None, actor: User, reason: str, counts_as_complete: bool = False
) -> bool:
    """Correct a booking's outcome at any time after the session began (administrators, with a reason)."""
    if not actor.has_role(ADMIN):
        raise AttendanceError("Only the L&D team can correct a register.")
    if booking.status != CONFIRMED:
        raise AttendanceError("Only a confirmed place on the register has an attendance outcome.")
    opens, _closes = marking_window(booking.session)
    if opens is None or today_london() < opens:
        raise AttendanceError("The session has not started yet, so there is nothing to correct.")
    if not reason.strip():
        raise AttendanceError("Say why you are correcting the register", "reason")
    if outcome is not None and outcome not in OUTCOME_LABELS:
        raise AttendanceError("Choose what happened", "outcome")
    lock_register(booking.session)
    return record_outcome(booking, outcome, actor, "Correction: " + reason.strip(),
                          counts_as_complete=counts_as_complete)
