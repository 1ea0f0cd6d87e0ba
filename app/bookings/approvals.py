"""A line manager's links: the signed token that names one approval request and one answer.

Its own module so that the messages that carry the links and the rules that read the answer both
import it, and neither imports the other.
"""
from __future__ import annotations

from app.accounts.tokens import LinkError, make_token, read_token
from app.bookings.models import Booking
from app.extensions import db

APPROVAL_LINK_DAYS = 21  # longer than any 5-working-day wait, bank holidays included
AGREE = "agree"
DECLINE = "decline"


def approval_token(booking: Booking, decision: str) -> str:
    """A signed link token for a manager's answer to one approval request."""
    return make_token("manager-approval", {
        "b": booking.id, "d": decision, "r": booking.approval_requested_at.isoformat(),
    })


def booking_for_approval(token: str) -> tuple[Booking, str]:
    """The booking and decision a manager's link is for; LinkError if it is altered, old or replaced."""
    payload = read_token("manager-approval", token, APPROVAL_LINK_DAYS * 24 * 3600)
    try:
        booking_id, decision, requested = int(payload["b"]), payload["d"], payload["r"]
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("This link is not valid. Check you copied the whole link.") from exc
    booking = db.session.get(Booking, booking_id)
    if booking is None or decision not in (AGREE, DECLINE):
        raise LinkError("This link is not valid. Check you copied the whole link.")
    if booking.approval_requested_at is None or booking.approval_requested_at.isoformat() != requested:
        raise LinkError("This link is for an earlier request that no longer applies.", expired=True)
    return booking, decision
