"""Messages the reports send: a gap in training, with the sessions that would close it."""
from __future__ import annotations

from flask import current_app

from app.accounts.models import Agency, User
from app.courses.models import Course, Level, Session
from app.email import OutboxMessage, queue_email
from app.reports.models import TrainingNeedsAnalysis
from app.urls import external_url


def notify_gap(coordinator: User, *, agency: Agency, tna: TrainingNeedsAnalysis, course: Course | None,
               level: Level | None, figures: dict, sessions: list[Session], key: str) -> OutboxMessage | None:
    """Tell an agency's coordinator how far their staff are from the need, and what is coming up."""
    training = course.title if course else f"{level.name} training"
    return queue_email(
        key=key,
        to=coordinator.email,
        subject=f"{training}: upcoming sessions for {agency.name}",
        template="reports/emails/gap",
        coordinator=coordinator,
        agency=agency,
        tna=tna,
        training=training,
        figures=figures,
        sessions=[{"title": s.course.title, "starts_at": s.starts_at, "link": _session_link(s)}
                  for s in sessions],
        report_link=external_url("reports.home"),
    )


def _session_link(session: Session) -> str:
    """The session's own page if the programme has one, else the programme."""
    for endpoint, values in (("courses.session_detail", {"session_id": session.id}),
                             ("courses.programme", {})):
        if endpoint in current_app.view_functions:
            return external_url(endpoint, **values)
    return external_url("main.index")
