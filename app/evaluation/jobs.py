"""The evaluation's scheduled work, run by the job runner (app.jobs)."""
from app.evaluation.sending import send_due_evaluations
from app.jobs import job


@job("evaluation", order=40)
def send_evaluations() -> str:
    """Send due first and second evaluations and reminders (before the outbox goes out)."""
    counts = send_due_evaluations()
    return ", ".join(f"{count} {what}" for what, count in counts.items())
