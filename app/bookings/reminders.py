"""Reminders before a session: 7 days and 1 day before, to people with a confirmed place."""
from __future__ import annotations

from datetime import timedelta

from app.bookings import notifications as notify
from app.bookings.queries import confirmed_places_starting_within
from app.clock import utcnow

REMINDER_DAYS = (7, 1)


def send_reminders() -> int:
    """Queue the 7-day and 1-day reminders for confirmed places (each once per start time)."""
    now = utcnow()
    queued = 0
    for booking, session in confirmed_places_starting_within(max(REMINDER_DAYS), now):
        left = session.starts_at - now
        # The nearest reminder due; the 7-day one is skipped when the 1-day one is already due.
        days = min(d for d in REMINDER_DAYS if left <= timedelta(days=d))
        mark = session.starts_at - timedelta(days=days)
        if booking.confirmed_at is not None and booking.confirmed_at > mark:
            continue  # confirmed after the reminder point: their confirmation has just told them
        if notify.notify_reminder(booking, days):
            queued += 1
    return queued
