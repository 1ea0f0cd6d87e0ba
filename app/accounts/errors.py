"""The refusal every accounts rule raises."""
from __future__ import annotations

from app.errors import DomainError


class AccountError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""
