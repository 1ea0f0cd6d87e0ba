"""Whether a booking's attendance completed its course (it has a Completion)."""
from __future__ import annotations

from sqlalchemy import select

from app.bookings.models import Booking, Completion
from app.extensions import db


ATTENDANCE_SOURCE = "attendance"


def completion_for(booking: Booking) -> Completion | None:
    if booking.id is None:
        return None
    return db.session.scalar(select(Completion).where(Completion.booking_id == booking.id))


def counts_as_complete(booking: Booking) -> bool:
    """True when the booking's attendance completed the course (it has a Completion)."""
    return completion_for(booking) is not None
