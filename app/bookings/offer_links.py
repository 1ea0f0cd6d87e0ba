"""The links in an offer of a place: the signed token that names one offer and one answer.

Its own module so that the message that carries the links and the rules that read the answer both
import it, and neither imports the other (as approvals.py does for the manager's links).
"""
from __future__ import annotations

from app.accounts.tokens import LinkError, make_token, read_token
from app.bookings.models import Booking
from app.extensions import db

ACCEPT = "accept"
DECLINE = "decline"
# The links outlive any offer (at most a week); the offer's own expiry is what decides.
OFFER_LINK_SECONDS = 8 * 24 * 3600


def offer_token(booking: Booking, answer: str) -> str:
    """A signed link token for an answer to one offer (a later offer to the same person gets new links)."""
    return make_token("waiting-offer", {"b": booking.id, "a": answer, "e": booking.offer_expires_at.isoformat()})


def booking_for_offer(token: str) -> tuple[Booking, str]:
    """The booking and answer an offer link is for; LinkError if it is altered, old or for an earlier offer."""
    payload = read_token("waiting-offer", token, OFFER_LINK_SECONDS)
    try:
        booking_id, answer, expires = int(payload["b"]), payload["a"], payload["e"]
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("This link is not valid. Check you copied the whole link.") from exc
    booking = db.session.get(Booking, booking_id)
    if booking is None or answer not in (ACCEPT, DECLINE):
        raise LinkError("This link is not valid. Check you copied the whole link.")
    if booking.offer_expires_at is None or booking.offer_expires_at.isoformat() != expires:
        raise LinkError("This link is for an earlier offer that no longer applies.", expired=True)
    return booking, answer
