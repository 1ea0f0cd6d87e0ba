"""The bookings domain's refusal."""
from __future__ import annotations

from app.errors import DomainError


class BookingError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""
