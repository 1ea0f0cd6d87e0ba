"""The codes that check a person in at an event: no personal data, only signed ids.

- Each confirmed place has a QR code holding a signed token for (booking id, session id), and a
  short code to type when a camera cannot read it: the booking id and five letters of a keyed hash
  of (booking id, session id), e.g. ``1234-K7QFA``. Neither can be made without SECRET_KEY.
- Each event has a door code: a signed token for the session, leading to the page where a
  signed-in person with a place confirms their own arrival.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

import segno
from flask import current_app

from app.accounts.tokens import LinkError, make_token, read_token
from app.bookings.errors import BookingError
from app.bookings.models import Booking

PLACE_PURPOSE = "check-in"
DOOR_PURPOSE = "door"
# A place's code works for as long as anyone could still be checked in (and a little longer).
CODE_MAX_AGE_SECONDS = 2 * 366 * 24 * 60 * 60
SHORT_CODE = re.compile(r"^\s*(\d{1,9})\s*-?\s*([A-Za-z2-7]{5})\s*$")
UNKNOWN_CODE = "This code is not one of ours. Check it and try again, or find the person on the register."


def _letters(booking_id: int, session_id: int) -> str:
    key = hashlib.sha256(f"check-in-code:{current_app.config['SECRET_KEY']}".encode()).digest()
    digest = hmac.new(key, f"{booking_id}:{session_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:5]


def short_code(booking: Booking) -> str:
    """The code a person can read out or a trainer can type, e.g. 1234-K7QFA."""
    return f"{booking.id}-{_letters(booking.id, booking.session_id)}"


def place_token(booking: Booking) -> str:
    """The signed token a place's QR code holds."""
    return make_token(PLACE_PURPOSE, [booking.id, booking.session_id])


def read_place_code(text: str, find_booking) -> Booking:
    """Return the booking a scanned token or typed short code names (`find_booking(id)` loads
    it), or refuse a code that was altered, mistyped or is not ours."""
    text = (text or "").strip()
    match = SHORT_CODE.match(text)
    if match:
        booking = find_booking(int(match.group(1)))
        if booking is None or not hmac.compare_digest(
                _letters(booking.id, booking.session_id), match.group(2).upper()):
            raise BookingError(UNKNOWN_CODE, "code")
        return booking
    if not text or len(text) > 500:
        raise BookingError(UNKNOWN_CODE, "code")
    try:
        booking_id, session_id = read_token(PLACE_PURPOSE, text, CODE_MAX_AGE_SECONDS)
    except (LinkError, ValueError, TypeError) as exc:
        raise BookingError(UNKNOWN_CODE, "code") from exc
    booking = find_booking(booking_id) if isinstance(booking_id, int) else None
    if booking is None or booking.session_id != session_id:
        raise BookingError(UNKNOWN_CODE, "code")
    return booking


def door_token(session_id: int) -> str:
    """The signed token of an event's door code."""
    return make_token(DOOR_PURPOSE, session_id)


def read_door_token(token: str) -> int:
    """The session id a door code names, or refuse one that was altered."""
    try:
        session_id = read_token(DOOR_PURPOSE, token, CODE_MAX_AGE_SECONDS)
    except LinkError as exc:
        raise BookingError("This check-in code is not valid. Scan the code at the door again.") from exc
    if not isinstance(session_id, int):
        raise BookingError("This check-in code is not valid. Scan the code at the door again.")
    return session_id


def qr_svg(text: str, title: str) -> str:
    """An inline SVG QR code of `text` (no style attributes, so the page's CSP allows it), with a
    viewBox and no fixed size, so the page's CSS sizes it to the screen."""
    svg = segno.make(text, error="m").svg_inline(border=4, title=title, dark="#0b0c0c", light="#fff", omitsize=True)
    return svg.replace("<svg ", '<svg role="img" ', 1)

