"""The privacy domain's scheduled work, run by the job runner (app.jobs)."""
from datetime import timedelta

from flask import current_app

from app.access_log import remove_entries_before
from app.clock import add_months, day_start_utc, today_london
from app.jobs import job


@job("privacy_access_log_retention", order=90, every=timedelta(hours=24))
def access_log_retention() -> str:
    """Remove access log entries older than ACCESS_LOG_RETENTION_MONTHS (from the start of that day)."""
    months = current_app.config["ACCESS_LOG_RETENTION_MONTHS"]
    cutoff = day_start_utc(add_months(today_london(), -months))
    return f"{remove_entries_before(cutoff)} access log entries removed"
