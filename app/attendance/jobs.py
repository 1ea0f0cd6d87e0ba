"""Scheduled work for attendance (run by the job runner (app.jobs))."""
from datetime import timedelta

from app.attendance.charges import raise_late_cancellation_charges
from app.attendance.completion_import import discard_stale_uploads
from app.jobs import job


@job("attendance_late_cancellation_charges", order=40)
def late_cancellation_charges() -> str:
    """Charge agencies for late cancellations not charged yet (safe to run again)."""
    return f"{raise_late_cancellation_charges()} charges raised"


@job("attendance_discard_stale_completion_uploads", order=81, every=timedelta(hours=1))
def discard_stale_completion_uploads() -> str:
    """Discard e-learning completion files left unapplied for a week (they hold names and addresses)."""
    return f"{discard_stale_uploads()} discarded"
