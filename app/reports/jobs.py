"""The reports' scheduled work, run by the job runner (app.jobs)."""
from datetime import timedelta

from app.jobs import job
from app.reports.needs_import import discard_stale_imports


@job("reports_discard_stale_imports", order=80, every=timedelta(hours=1))
def discard_stale_imports_job() -> str:
    """Discard needs imports left unapplied for a week."""
    return f"{discard_stale_imports()} discarded"
