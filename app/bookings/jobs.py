"""Scheduled booking work, run by the job runner (app.jobs).

Each job commits per session or per booking and takes the same session lock as people booking,
so it is safe while people book; the outbox keys make a second run queue nothing new.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from app.bookings import queries
from app.bookings.line_manager import lapse_approval
from app.bookings.models import Booking
from app.bookings.offers import expire_offer
from app.bookings.reminders import send_reminders
from app.bookings.session_changes import apply_session_changes
from app.bookings.waiting_list import promote_from_waiting_list
from app.courses.models import Session
from app.extensions import db
from app.jobs import job


def _one_at_a_time(model: type, ids: Iterable[int], change: Callable[[object], int]) -> int:
    """Apply `change` to each row in turn, committing after each; return the total it counted."""
    total = 0
    for row_id in ids:
        total += change(db.session.get(model, row_id))
        db.session.commit()
    return total


def _promote_waiting_lists(only_released: bool = False) -> int:
    """Promote waiting people on every upcoming session with free places; commit per session."""
    return _one_at_a_time(Session, queries.sessions_with_waiting(only_released),
                          lambda session: len(promote_from_waiting_list(session)))


@job("release_reservations", order=10)
def release_reservations() -> str:
    """Promote waiting people on sessions whose reserved places have become general places."""
    return f"{_promote_waiting_lists(only_released=True)} promoted"


@job("lapse_unanswered_approvals", order=20)
def lapse_unanswered_approvals() -> str:
    """Free places whose line manager did not answer within 5 working days (commit per booking)."""
    return f"{_one_at_a_time(Booking, queries.approvals_past_due(), lapse_approval)} lapsed"


@job("expire_offers", order=25, every=timedelta(minutes=5))
def expire_offers() -> str:
    """Offer to the next waiting person every place whose offer was not answered in time (commit per booking)."""
    return f"{_one_at_a_time(Booking, queries.offers_past_expiry(), expire_offer)} offers expired"


@job("notify_session_changes", order=30, every=timedelta(minutes=1))
def notify_session_changes() -> str:
    """Tell people booked about changed or cancelled sessions (commit per session)."""
    told = _one_at_a_time(Session, queries.sessions_with_changes_to_tell(), apply_session_changes)
    return f"{told} bookings told"


@job("promote_from_waiting_lists", order=40, every=timedelta(minutes=2))
def promote_from_waiting_lists() -> str:
    """Give any free place to the first waiting person who may fill it."""
    return f"{_promote_waiting_lists()} promoted"


@job("send_booking_reminders", order=50, every=timedelta(minutes=15))
def send_booking_reminders() -> str:
    """Queue the 7-day and 1-day reminders."""
    return f"{send_reminders()} reminders"
