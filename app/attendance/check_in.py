"""Checking people in at an event with their code, or at the door on their own phone.

Both mark the register through its own rules (app/attendance/register.py: who may mark and when,
one register changed at a time; app/attendance/outcomes.py: attended and what it sets off), so a
check-in is an "attended" mark like any other, in the booking's history. Each place counts once: a
second scan of the same code, from any phone and however late its queue sends it, changes nothing
and answers when the person was checked in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.accounts.models import User
from app.attendance.errors import AttendanceError
from app.attendance.outcomes import record_outcome
from app.attendance.register import check_can_mark, lock_register
from app.bookings.check_in_codes import read_place_code
from app.bookings.errors import BookingError
from app.bookings.models import ATTENDED, CONFIRMED, PRESENT_OUTCOMES, TURNED_AWAY, Booking
from app.clock import utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Session
from app.extensions import db
from app.templating import format_date, format_datetime

# People may confirm their own arrival from this long before a part of the event starts until it ends.
DOOR_OPENS_BEFORE = timedelta(hours=1)
CHECKED_IN = "checked_in"
ALREADY = "already"


@dataclass
class CheckIn:
    """What a check-in did: `result` is CHECKED_IN or ALREADY; `at` when the person arrived."""

    booking: Booking
    result: str
    at: datetime


def _fresh_booking(booking_id: int) -> Booking | None:
    # Read after the register is locked, so a scan on another phone a moment ago is seen.
    return db.session.get(Booking, booking_id, populate_existing=True)


def _arrive(booking: Booking, actor: User, how: str) -> CheckIn:
    if booking.status != CONFIRMED:
        raise AttendanceError(f"{booking.user.name} has no confirmed place at this event "
                              f"({booking.own_state_label.lower()}).", "code")
    if booking.outcome in PRESENT_OUTCOMES:
        return CheckIn(booking, ALREADY, booking.outcome_marked_at or utcnow())
    if booking.outcome == TURNED_AWAY:
        raise AttendanceError(f"{booking.user.name} was marked as turned away. Change it on the "
                              "register if that was wrong.", "code")
    record_outcome(booking, ATTENDED, actor, how)
    return CheckIn(booking, CHECKED_IN, booking.outcome_marked_at or utcnow())


def check_in(session: Session, code: str, actor: User) -> CheckIn:
    """Check in the person whose code (scanned token or typed short code) was read at `session`."""
    try:
        booking = read_place_code(code, _fresh_booking)
    except BookingError as exc:
        raise AttendanceError(exc.message, "code") from exc
    if booking.session_id != session.id:
        other = booking.session
        raise AttendanceError(f"This code is for another event: {other.course.title} on "
                              f"{format_date(other.starts_at)}. Nobody was checked in.", "code")
    check_can_mark(session, actor)
    lock_register(session)
    return _arrive(_fresh_booking(booking.id), actor, "Checked in with their code")


def door_refusal(session: Session, now: datetime | None = None) -> str | None:
    """Why nobody can confirm their own arrival at the event now, or None."""
    if session.status == SESSION_CANCELLED:
        return "This event was cancelled."
    now = now or utcnow()
    parts = [(p.starts_at, p.ends_at) for p in session.parts] or [(session.starts_at, session.ends_at)]
    if any(start and end and start - DOOR_OPENS_BEFORE <= now <= end for start, end in parts):
        return None
    upcoming = sorted(start for start, _ in parts if start and start > now)
    if upcoming:
        return (f"You can confirm your arrival from {format_datetime(upcoming[0] - DOOR_OPENS_BEFORE)}, "
                "an hour before the event starts.")
    return "This event has ended, so arrivals can no longer be confirmed here. Speak to the organisers."


def self_check_in(session: Session, booking: Booking | None, person: User) -> CheckIn:
    """Confirm a person's own arrival at the event by its door code (only during its hours)."""
    refusal = door_refusal(session)
    if refusal:
        raise AttendanceError(refusal)
    if booking is None or booking.user_id != person.id or booking.session_id != session.id:
        raise AttendanceError("You do not have a place at this event. Speak to the organisers at the door.")
    lock_register(session)
    booking = _fresh_booking(booking.id)
    if booking.status != CONFIRMED:
        raise AttendanceError("You do not have a confirmed place at this event. "
                              "Speak to the organisers at the door.")
    return _arrive(booking, person, "Confirmed their own arrival with the code at the door")
