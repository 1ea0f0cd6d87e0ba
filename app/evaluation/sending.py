"""Sending: the first and second invitations, the two reminders, and an administrator's resend.

Every e-mail goes through the outbox with an idempotency key, and the database allows one
invitation per booking and stage, so two job runs at once, or a run after a mail-server outage,
never send anything twice.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.accounts.models import ACTIVE, User
from app.bookings.models import PRESENT_OUTCOMES, Booking
from app.clock import utcnow
from app.courses.models import CANCELLED, Course, Session
from app.evaluation import notifications
from app.evaluation.course_settings import course_setting
from app.evaluation.errors import EvaluationError
from app.evaluation.links import invitation_link, manager_link
from app.evaluation.models import STAGE_ONE, STAGE_TWO, Invitation
from app.evaluation.question_sets import current_question_set, ensure_default_question_sets
from app.extensions import db
from app.locking import lock_rows


def _expiry_days(stage: int) -> int:
    config = current_app.config
    return config["EVALUATION_STAGE1_EXPIRY_DAYS" if stage == STAGE_ONE else "EVALUATION_STAGE2_EXPIRY_DAYS"]


def stage_two_due_at(session: Session) -> datetime | None:
    """Return when a session's second evaluation is due (its end plus the course's delay)."""
    if session.ends_at is None:
        return None
    return session.ends_at + relativedelta(months=session.course.evaluation_delay_months)


def _candidates(stage: int, now: datetime, ended_after: datetime):
    """Bookings present at a session that ended (after `ended_after`) with no invitation for this stage."""
    existing = aliased(Invitation)
    return db.session.scalars(
        select(Booking)
        .join(Session, Session.id == Booking.session_id)
        .join(User, User.id == Booking.user_id)
        .outerjoin(existing, and_(existing.booking_id == Booking.id, existing.stage == stage))
        .where(
            Booking.outcome.in_(PRESENT_OUTCOMES),
            Session.status != CANCELLED,
            Session.ends_at.is_not(None),
            Session.ends_at <= now,
            Session.ends_at >= ended_after,
            User.status == ACTIVE,
            existing.id.is_(None),
        )
        .order_by(Booking.id)
    ).all()


def create_invitation(booking: Booking, stage: int, now: datetime) -> Invitation | None:
    """Invite a person to evaluate a session at a stage and queue the e-mail (once only)."""
    question_set = current_question_set(stage)
    if question_set is None:
        raise EvaluationError(f"There are no published questions for stage {stage}.")
    invitation = Invitation(
        booking_id=booking.id, user_id=booking.user_id, session_id=booking.session_id,
        stage=stage, question_set_id=question_set.id, nonce=secrets.token_hex(8), sent_at=now,
        expires_at=now + timedelta(days=_expiry_days(stage)),
    )
    # Two runs racing for the same booking: the unique (booking, stage) lets only one insert.
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError:
        return None
    notifications.notify_invitation(invitation, invitation_link(invitation))
    if stage == STAGE_TWO and course_setting(booking.session.course).manager_copy:
        manager_email = booking.user.line_manager_email.strip()
        if manager_email:
            notifications.notify_manager_copy(invitation, manager_email, manager_link(invitation))
            invitation.manager_copy_sent_at = now
    db.session.flush()
    return invitation


def send_first_evaluations(now: datetime | None = None) -> int:
    """Invite everyone who attended a session that has ended to the first evaluation."""
    now = now or utcnow()
    latest = timedelta(days=current_app.config["EVALUATION_LATEST_SEND_DAYS"])
    sent = 0
    # A register marked late is still picked up; a session long past is not surprised with mail.
    for booking in _candidates(STAGE_ONE, now, now - latest):
        if create_invitation(booking, STAGE_ONE, now):
            sent += 1
    return sent


def send_second_evaluations(now: datetime | None = None) -> int:
    """Invite everyone who attended to the second evaluation once the course's delay has passed."""
    now = now or utcnow()
    latest = timedelta(days=current_app.config["EVALUATION_LATEST_SEND_DAYS"])
    longest_delay = db.session.scalar(select(func.max(Course.evaluation_delay_months))) or 0
    sent = 0
    for booking in _candidates(STAGE_TWO, now, now - latest - relativedelta(months=longest_delay)):
        due = stage_two_due_at(booking.session)
        if due is None or due > now or due < now - latest:
            continue
        if create_invitation(booking, STAGE_TWO, now):
            sent += 1
    return sent


def _claim_reminder(invitation_id: int, column, condition, now: datetime) -> bool:
    """Mark a reminder as sent unless another run already did (the row decides, not Python)."""
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, column.is_(None), condition)
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _send_reminder(number: int, column, open_, due, now: datetime) -> int:
    """Send reminder `number` on every open invitation it is due on; return how many went."""
    sent = 0
    due_ids = db.session.scalars(select(Invitation.id).where(open_, due).order_by(Invitation.id)).all()
    for invitation_id in due_ids:
        if _claim_reminder(invitation_id, column, open_, now):
            invitation = db.session.get(Invitation, invitation_id, populate_existing=True)
            notifications.notify_reminder(invitation, number, invitation_link(invitation))
            sent += 1
    return sent


def send_reminders(now: datetime | None = None) -> int:
    """Remind people who have not answered: once after 7 days, once after 14, then no more."""
    now = now or utcnow()
    first = timedelta(days=current_app.config["EVALUATION_FIRST_REMINDER_DAYS"])
    second = timedelta(days=current_app.config["EVALUATION_SECOND_REMINDER_DAYS"])
    open_ = and_(Invitation.submitted_at.is_(None), Invitation.expires_at > now)
    # Counted from the latest sending, so a resent invitation is not followed at once by a reminder.
    last_sent = func.coalesce(Invitation.resent_at, Invitation.sent_at)
    due_first = and_(Invitation.reminder_1_at.is_(None), last_sent <= now - first)
    sent = _send_reminder(1, Invitation.reminder_1_at, open_, due_first, now)
    due_second = and_(
        Invitation.reminder_1_at.is_not(None), Invitation.reminder_2_at.is_(None),
        last_sent <= now - second,
        # Keep the two reminders apart even when the job has not run for a while.
        Invitation.reminder_1_at <= now - (second - first),
    )
    sent += _send_reminder(2, Invitation.reminder_2_at, open_, due_second, now)
    db.session.flush()
    return sent


def send_due_evaluations(now: datetime | None = None) -> dict[str, int]:
    """Send every first and second evaluation and reminder that is due."""
    now = now or utcnow()
    ensure_default_question_sets()
    return {
        "stage 1": send_first_evaluations(now),
        "stage 2": send_second_evaluations(now),
        "reminders": send_reminders(now),
    }


def resend_invitation(invitation: Invitation, actor: User, now: datetime | None = None) -> Invitation:
    """Send an invitation again, opening it for another full period if it has closed."""
    now = now or utcnow()
    [invitation] = lock_rows(Invitation, [invitation.id])
    if invitation.submitted_at is not None:
        raise EvaluationError("This person has already answered; there is nothing to resend.")
    invitation.expires_at = max(invitation.expires_at, now + timedelta(days=_expiry_days(invitation.stage)))
    invitation.resent_at = now
    invitation.resend_count += 1
    notifications.notify_resent(invitation, invitation.resend_count, invitation_link(invitation))
    db.session.flush()
    return invitation
