"""A person's secret calendar address (the feed's entries are read by queries.calendar_entries)."""
from __future__ import annotations

import secrets

from app.accounts.models import User


def reset_calendar_token(person: User) -> None:
    """Give the person a new secret calendar address; the old one stops working."""
    person.calendar_token = secrets.token_urlsafe(32)
