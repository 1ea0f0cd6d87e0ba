"""Privacy work run by the job runner (app.jobs): retention, each rule in batches committed one at a
time, dormant accounts, and the access log's own retention."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import current_app

from app.access_log import remove_entries_before
from app.clock import add_months, day_start_utc, today_london, utcnow
from app.extensions import db
from app.jobs import heartbeat, job
from app.privacy.dormant import close_dormant, people_to_close, people_to_warn, warn_dormant
from app.privacy.retention import BATCH, clear_access_needs, forget_failed_sign_ins, remove_message_content


def in_batches(rule: Callable[[int], int], batch: int = BATCH) -> int:
    """Run a retention rule batch after batch, committing each, until it finds less than a batch.

    Stops early when the runner is stopping; what was committed stays done and the next run goes on.
    """
    total = 0
    while True:
        done = rule(batch)
        db.session.commit()
        total += done
        if done < batch or not heartbeat():
            return total


@job("retention_access_needs", order=85, every=timedelta(hours=1))
def retention_access_needs() -> str:
    """Blank the access and dietary needs on bookings whose session ended RETENTION_ACCESS_NEEDS_DAYS ago."""
    return f"{in_batches(clear_access_needs)} bookings' needs removed"


@job("retention_message_content", order=86, every=timedelta(hours=1))
def retention_message_content() -> str:
    """Remove the content of e-mails sent or failed RETENTION_MESSAGE_BODY_DAYS ago."""
    return f"{in_batches(remove_message_content)} messages' content removed"


@job("retention_failed_sign_ins", order=87, every=timedelta(hours=1))
def retention_failed_sign_ins() -> str:
    """Delete failed sign-in records older than RETENTION_FAILED_SIGN_IN_DAYS."""
    return f"{in_batches(forget_failed_sign_ins)} failed sign-ins deleted"


@job("privacy_dormant_accounts", order=90, every=timedelta(hours=6))
def dormant_accounts() -> str:
    """Warn people whose unused accounts will close, and close those warned long enough ago."""
    now = utcnow()
    warned = closed = 0
    for person_id in people_to_warn(now):
        warned += warn_dormant(person_id, now)
        db.session.commit()  # one person at a time: a failure later keeps the warnings sent
    for person_id in people_to_close(now):
        closed += close_dormant(person_id, now)
        db.session.commit()
    return f"{warned} warned, {closed} closed and anonymised"


@job("privacy_access_log_retention", order=91, every=timedelta(hours=24))
def access_log_retention() -> str:
    """Remove access log entries older than ACCESS_LOG_RETENTION_MONTHS (from the start of that day)."""
    months = current_app.config["ACCESS_LOG_RETENTION_MONTHS"]
    cutoff = day_start_utc(add_months(today_london(), -months))
    return f"{remove_entries_before(cutoff)} access log entries removed"
