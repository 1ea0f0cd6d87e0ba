"""E-mails that attendance sets off, queued in the same transaction as the change (the outbox)."""
from __future__ import annotations

from flask import current_app

from app.attendance.models import Suspension
from app.bookings.models import Booking
from app.email import queue_email


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
