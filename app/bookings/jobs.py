"""Scheduled booking work, run by the job runner (app.jobs).

Each job commits per session or per booking and takes the same session lock as people booking,
so it is safe while people book; the outbox keys make a second run queue nothing new.
"""
from __future__ import annotations

from datetime import timedelta

from app.bookings import services
from app.jobs import job


@job("release_reservations", order=10)
def release_reservations() -> str:
    """Promote waiting people on sessions whose reserved places have become general places."""
    return f"{services.promote_waiting_lists(only_released=True)} promoted"


@job("lapse_unanswered_approvals", order=20)
def lapse_unanswered_approvals() -> str:
    """Free places whose line manager did not answer within 5 working days."""
    return f"{services.lapse_unanswered_approvals()} lapsed"


@job("notify_session_changes", order=30, every=timedelta(minutes=1))
def notify_session_changes() -> str:
    """Tell people booked about changed or cancelled sessions."""
    return f"{services.notify_session_changes()} bookings told"


@job("promote_from_waiting_lists", order=40, every=timedelta(minutes=2))
def promote_from_waiting_lists() -> str:
    """Give any free place to the first waiting person who may fill it."""
    return f"{services.promote_waiting_lists()} promoted"


@job("send_booking_reminders", order=50, every=timedelta(minutes=15))
def send_booking_reminders() -> str:
    """Queue the 7-day and 1-day reminders."""
    return f"{services.send_reminders()} reminders"
