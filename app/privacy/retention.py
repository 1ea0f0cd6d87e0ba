"""Retention: personal data removed once the time its purpose needs has passed.

Each rule is set in days by a setting (config.py; the README's "Personal data" gives each default's
reason), works on at most `limit` rows, flushes and returns how many it changed; the job
(app/privacy/jobs.py) commits after each batch and calls again until a batch comes back short.
A rule only picks rows that still hold what it removes, so running it again changes nothing.

- Access and dietary needs given with a booking: blanked RETENTION_ACCESS_NEEDS_DAYS after the
  session's last day (UK date). Bookings are the only rows with needs per booking. The needs kept
  on the account (users.access_needs, which pre-fills the booking form) stay while the account is
  active: they are removed with the account.
- E-mails: RETENTION_MESSAGE_BODY_DAYS after a message was sent or marked failed, its subject,
  bodies, attachments and captured context (render_json) are removed. The row stays, with the
  recipient's address, the kind of message (its template and outbox key), status, attempts, times,
  the server's last answer and the Message-ID: what the L&D team needs to answer "did this person
  get that e-mail", and what stops the same event from ever queueing the message again.
- Failed sign-ins (a keyed hash of the address typed and the client's network address): deleted
  RETENTION_FAILED_SIGN_IN_DAYS after the attempt, never sooner than the sign-in pauses read them
  (a day, app.accounts.throttling.MEMORY, or LOCKOUT_MINUTES if longer), so no pause is cut short.

No other tokens are stored to expire: e-mailed links (verification, reset, evaluation, manager
approval) are signed with their time and checked on use, so nothing of them is kept; the session
and remember-me cookies carry the account's one session token, replaced when the person signs out
or changes their password, and the calendar feed's token lives as long as the account.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from app.accounts.models import SignInFailure
from app.accounts.throttling import MEMORY
from app.bookings.models import Booking
from app.clock import day_start_utc, today_london, utcnow
from app.courses.models import Session
from app.email import FAILED, SENT, OutboxMessage
from app.extensions import db

# Rows changed per batch (the job commits after each).
BATCH = 500


def _days(setting: str, least: int = 0) -> int:
    return max(int(current_app.config[setting]), least)


def access_needs_kept_until() -> datetime:
    """The moment before which a session must have ended for its bookings' needs to be removed.

    A session whose last day (UK date) is D keeps its bookings' needs through D + the setting's days.
    """
    days = _days("RETENTION_ACCESS_NEEDS_DAYS")
    return day_start_utc(today_london() - timedelta(days=days))


def clear_access_needs(limit: int = BATCH) -> int:
    """Blank the access and dietary needs of up to `limit` bookings whose session ended long enough ago."""
    session_end = func.coalesce(Session.ends_at, Session.starts_at)
    ids = list(db.session.scalars(
        select(Booking.id).join(Session, Booking.session_id == Session.id)
        .where(Booking.access_needs != "", session_end < access_needs_kept_until())
        .order_by(Booking.id).limit(limit)
    ))
    if ids:
        db.session.execute(
            update(Booking).where(Booking.id.in_(ids)).values(access_needs="")
            .execution_options(synchronize_session=False)
        )
        db.session.flush()
    return len(ids)


def message_content_kept_until() -> datetime:
    """Messages sent or failed before this moment have their content removed."""
    return utcnow() - timedelta(days=_days("RETENTION_MESSAGE_BODY_DAYS"))


def remove_message_content(limit: int = BATCH) -> int:
    """Remove the subject, bodies, attachments and captured context of up to `limit` old messages.

    Only messages that are finished (sent, or failed) are touched: a queued message keeps what it
    needs to be sent, and one removed can no longer be tried again (app.email.retry_message).
    """
    cutoff = message_content_kept_until()
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.template, OutboxMessage.render_json)
        .where(OutboxMessage.content_removed_at.is_(None),
               or_(and_(OutboxMessage.status == SENT, OutboxMessage.sent_at < cutoff),
                   and_(OutboxMessage.status == FAILED, OutboxMessage.failed_at < cutoff)))
        .order_by(OutboxMessage.id).limit(limit)
    ).all()
    if not rows:
        return 0
    # A message queued before rows named their template, and never rendered (its rendering
    # failed), still says which template in its captured context: keep that before it goes.
    for row in rows:
        template = row.template or _template_of(row.render_json)
        if template and template != row.template:
            db.session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(template=template)
                .execution_options(synchronize_session=False)
            )
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_([row.id for row in rows]))
        .values(subject="", text_body="", html_body="", attachments_json="[]", render_json=None,
                content_removed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return len(rows)


def _template_of(render_json: str | None) -> str | None:
    if not render_json:
        return None
    try:
        template = json.loads(render_json).get("template")
    except (ValueError, AttributeError):
        return None
    return template[:120] if isinstance(template, str) else None


def failed_sign_ins_kept_until() -> datetime:
    """Failed sign-ins at or before this moment are deleted (never any a sign-in pause still reads)."""
    read_by_pauses = max(MEMORY, timedelta(minutes=current_app.config["LOCKOUT_MINUTES"]))
    return utcnow() - max(timedelta(days=_days("RETENTION_FAILED_SIGN_IN_DAYS")), read_by_pauses)


def forget_failed_sign_ins(limit: int = BATCH) -> int:
    """Delete up to `limit` failed sign-in records older than the retention period."""
    ids = list(db.session.scalars(
        select(SignInFailure.id).where(SignInFailure.at <= failed_sign_ins_kept_until())
        .order_by(SignInFailure.id).limit(limit)
    ))
    if ids:
        db.session.execute(
            delete(SignInFailure).where(SignInFailure.id.in_(ids)).execution_options(synchronize_session=False)
        )
        db.session.flush()
    return len(ids)
