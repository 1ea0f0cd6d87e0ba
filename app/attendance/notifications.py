"""E-mails that attendance sets off, queued in the same transaction as the change (the outbox)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.accounts.models import User
from app.attendance.models import SessionMaterial, Suspension
from app.bookings.models import Booking
from app.courses.models import Session
from app.email import queue_email
from app.templating import format_date
from app.urls import external_url


def notify_suspended(suspension: Suspension, no_shows: list[Booking]) -> None:
    """Tell the person, and their line manager, that they cannot book for a while."""
    person = suspension.user
    context = dict(person=person, suspension=suspension, no_shows=no_shows,
                   l_and_d_email=current_app.config["L_AND_D_EMAIL"])
    queue_email(
        key=f"suspension:{suspension.id}:person",
        to=person.email,
        subject="You cannot book training for a while",
        template="attendance/emails/suspended",
        **context,
    )
    if person.line_manager_email:
        queue_email(
            key=f"suspension:{suspension.id}:manager",
            to=person.line_manager_email,
            subject=f"{person.name} cannot book training for a while",
            template="attendance/emails/suspended_manager",
            **context,
        )


def notify_suspension_lifted(suspension: Suspension) -> None:
    """Tell the person they can book again."""
    queue_email(
        key=f"suspension:{suspension.id}:lifted",
        to=suspension.user.email,
        subject="You can book training again",
        template="attendance/emails/suspension_lifted",
        person=suspension.user,
        suspension=suspension,
    )


def notify_materials(session: Session, bookings: list[Booking], materials: list[SessionMaterial], message: str,
                     sender: User, now: datetime) -> None:
    """Send each person with a confirmed place the trainer's message and links to the material."""
    links = [(m.name, external_url("attendance.material_download", session_id=session.id, material_id=m.id))
             for m in materials]
    page = external_url("attendance.session_materials", session_id=session.id)
    for booking in bookings:
        queue_email(
            key=f"materials:{session.id}:{booking.id}:{now.isoformat()}",
            to=booking.user.email,
            subject=f"Before your course: {session.course.title} on {format_date(session.starts_at)}",
            template="attendance/emails/materials",
            person=booking.user, session=session, message=message, sender_name=sender.name,
            links=links, page=page,
        )
