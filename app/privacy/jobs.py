"""Scheduled privacy work (run by the job runner (app.jobs)): dormant accounts."""
from datetime import timedelta

from app.clock import utcnow
from app.extensions import db
from app.jobs import job
from app.privacy.dormant import close_dormant, people_to_close, people_to_warn, warn_dormant


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
