"""A session's register: when it can be marked, by whom, and who is on it."""
from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.models import ADMIN, Agency, User
from app.attendance.dates import first_day, last_day
from app.attendance.errors import AttendanceError
from app.bookings.models import CONFIRMED, Booking
from app.clock import today_london
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Session
from app.extensions import db
from app.locking import lock_rows


def marking_window(session: Session) -> tuple[date | None, date | None]:
    """Return the first and last UK dates on which trainers may mark the register."""
    start, end = first_day(session), last_day(session)
    if start is None or end is None:
        return None, None
    return start, end + timedelta(days=current_app.config["ATTENDANCE_MARKING_DAYS"])


def is_session_trainer(session: Session, person: User) -> bool:
    return any(t.id == person.id for t in session.trainers)


def can_view_register(session: Session, person: User) -> bool:
    """Trainers see their own sessions' registers; administrators see every one."""
    return person.has_role(ADMIN) or is_session_trainer(session, person)


def marking_refusal(session: Session, actor: User) -> str | None:
    """Say why `actor` may not mark the register today, or None when they may."""
    if not can_view_register(session, actor):
        return "Only this session’s trainers and the L&D team can mark its register."
    if session.status == SESSION_CANCELLED:
        return "This session was cancelled, so there is no register to mark."
    opens, closes = marking_window(session)
    if opens is None:
        return "This session has no dates yet."
    today = today_london()
    if today < opens:
        return (f"The register can be marked from {opens:%-d %B %Y}, the first day of the session. "
                "You can download it now.")
    if today > closes:
        if actor.has_role(ADMIN):
            return (f"Marking closed on {closes:%-d %B %Y}. Correct a booking from its "
                    "attendance page, giving a reason.")
        return (f"Marking closed on {closes:%-d %B %Y}. Ask the L&D team to correct the register "
                "if something is wrong.")
    return None


def check_can_mark(session: Session, actor: User) -> None:
    """Refuse marking outside the window or by someone who is not the session's trainer or an administrator."""
    refusal = marking_refusal(session, actor)
    if refusal:
        raise AttendanceError(refusal)


def surname(name: str) -> str:
    parts = name.strip().split()
    return parts[-1] if parts else ""


def sort_text(text: str) -> str:
    """Text for sorting as people expect: accents and case ignored (Ábrahams before Young)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def booking_agency(booking: Booking) -> Agency | None:
    """The agency the booking was made for (the person's agency when it was made)."""
    return booking.agency or booking.user.agency


def register_sort_key(booking: Booking) -> tuple:
    # Trainers look people up by surname (the last word of the name), then first name.
    name = booking.user.name
    first = name.split()[0] if name.split() else ""
    return (sort_text(surname(name)), sort_text(first), sort_text(name), booking.id or 0)


def register_bookings(session: Session) -> list[Booking]:
    """Return the people on a session's register (confirmed places), by surname then first name."""
    # Each row shows its person, agency and sector (page, CSV, sign-in sheet): loaded in the same
    # query, so a register of 40 sends as many statements as a register of 2.
    bookings = db.session.scalars(
        select(Booking).where(Booking.session_id == session.id, Booking.status == CONFIRMED)
        .options(joinedload(Booking.user).joinedload(User.agency).joinedload(Agency.sector),
                 joinedload(Booking.agency).joinedload(Agency.sector))
    ).all()
    return sorted(bookings, key=register_sort_key)


def lock_register(session: Session) -> None:
    """Serialise changes to one register (PostgreSQL: lock the session row), so two people
    marking at once cannot raise the same charge or completion twice."""
    lock_rows(Session, [session.id])
