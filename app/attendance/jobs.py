"""Scheduled work for attendance (run by the job runner (app.jobs))."""
from app.attendance.charges import raise_late_cancellation_charges
from app.jobs import job


@job("attendance_late_cancellation_charges", order=40)
def late_cancellation_charges() -> str:
    """Charge agencies for late cancellations not charged yet (safe to run again)."""
    return f"{raise_late_cancellation_charges()} charges raised"
