"""The bookings domain's refusal."""
from __future__ import annotations

from app.errors import DomainError


class BookingError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any.

    `kind` names the rule that refused, in a word that never holds personal data (the eligibility
    check's name, say), so refusals can be counted by reason.
    """

    def __init__(self, message: str, field: str | None = None, problems: list[tuple] | None = None,
                 kind: str = "other"):
        super().__init__(message, field, problems)
        self.kind = kind
