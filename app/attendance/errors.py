"""The refusal every attendance rule raises."""
from __future__ import annotations

from app.errors import DomainError


class AttendanceError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""
