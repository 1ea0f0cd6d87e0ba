"""E-mails the evaluation sends; each is queued in the outbox under a key that makes it happen once."""
from __future__ import annotations

from flask import current_app

from app.email import queue_email
from app.evaluation.models import STAGE_ONE, Invitation


def _context(invitation: Invitation, link: str) -> dict:
    session = invitation.session
    return {
        "person": invitation.user,
        "course": session.course,
        "session": session,
        "stage": invitation.stage,
        "link": link,
        "expires_at": invitation.expires_at,
        "l_and_d_email": current_app.config["L_AND_D_EMAIL"],
    }


def _subject(invitation: Invitation, prefix: str = "") -> str:
    title = invitation.session.course.title
    if invitation.stage == STAGE_ONE:
        return f"{prefix}Your evaluation of {title}"
    return f"{prefix}{title}: how have you used the learning?"


def _key(invitation: Invitation, event: str) -> str:
    return f"evaluation:{invitation.booking_id}:stage{invitation.stage}:{event}"


def _queue_invitation(invitation: Invitation, link: str, event: str, kind: str,
                      subject_prefix: str = "") -> None:
    # The invitation, its reminders and a resend are one e-mail, worded by its kind.
    queue_email(
        key=_key(invitation, event), to=invitation.user.email,
        subject=_subject(invitation, subject_prefix), template="evaluation/emails/invitation",
        kind=kind, **_context(invitation, link),
    )


def notify_invitation(invitation: Invitation, link: str) -> None:
    """Queue the invitation to a stage's evaluation."""
    _queue_invitation(invitation, link, "invitation", kind="invitation")


def notify_reminder(invitation: Invitation, number: int, link: str) -> None:
    """Queue the first or second reminder to someone who has not answered."""
    _queue_invitation(invitation, link, f"reminder{number}", kind="reminder",
                      subject_prefix="Reminder: ")


def notify_resent(invitation: Invitation, count: int, link: str) -> None:
    """Queue an invitation an administrator has sent again."""
    _queue_invitation(invitation, link, f"resent{count}", kind="resent")


def notify_manager_copy(invitation: Invitation, manager_email: str, link: str) -> None:
    """Queue the line manager's copy of the second evaluation, asking for their comment."""
    queue_email(
        key=_key(invitation, "manager"),
        to=manager_email,
        subject=f"{invitation.user.name} – putting {invitation.session.course.title} into practice",
        template="evaluation/emails/manager_copy",
        **_context(invitation, link),
    )
