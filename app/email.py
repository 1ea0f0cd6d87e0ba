"""The outbox: the one module that touches Flask-Mail.

A message is written to the outbox in the same transaction as the change that caused it and
delivered after commit by `flask jobs run` (or at the end of the request in development), so a
rolled-back change never sends mail and a crash never loses one.
"""
from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, render_template
from flask_mail import Message
from sqlalchemy import String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db, mail
from app.locking import write_intent

log = logging.getLogger(__name__)

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
MAX_ATTEMPTS = 8
CLAIM_MINUTES = 10


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Makes queueing idempotent: the same event never queues a second message.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    attachments_json: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    @property
    def attachments(self) -> list[Attachment]:
        return [
            Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]))
            for a in json.loads(self.attachments_json or "[]")
        ]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def queue_email(
    *,
    key: str,
    to: str,
    subject: str,
    template: str,
    attachments: list[Attachment] | None = None,
    **context,
) -> OutboxMessage | None:
    """Queue a message rendered from `<template>.txt` and `<template>.html`, once per key.

    Returns None when a message with this key was queued before.
    """
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return None
    context.setdefault("partnership_name", current_app.config["PARTNERSHIP_NAME"])
    context.setdefault("service_name", current_app.config["SERVICE_NAME"])
    context.setdefault("base_url", current_app.config["BASE_URL"])
    message = OutboxMessage(
        idempotency_key=key,
        recipient=to.strip().lower(),
        subject=subject,
        text_body=render_template(f"{template}.txt", **context),
        html_body=render_template(f"{template}.html", **context),
        attachments_json=json.dumps(
            [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "data": base64.b64encode(a.data).decode("ascii"),
                }
                for a in attachments or []
            ]
        ),
        next_attempt_at=utcnow(),
    )
    # A savepoint, so that two writers racing on the same key cannot break the caller's transaction.
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return None
    try:
        g.mail_queued = True
    except RuntimeError:  # outside a request or app context: nothing to flag
        pass
    return message


def _claim(batch: int) -> tuple[str, list[int]]:
    """Mark up to `batch` due messages as ours, so a second runner skips them."""
    now = utcnow()
    token = secrets.token_hex(16)
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now, free)
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    # The conditions are repeated on the outer UPDATE so PostgreSQL re-checks them on a row
    # another runner claimed while we waited for its lock.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due), OutboxMessage.status == QUEUED, free)
        .values(claim_token=token, claimed_until=now + timedelta(minutes=CLAIM_MINUTES))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    ids = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.claim_token == token).order_by(OutboxMessage.id)
    ).all()
    return token, list(ids)


def _to_mail_message(message: OutboxMessage) -> Message:
    mail_message = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.text_body,
        html=message.html_body or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-Outbox-Id": str(message.id)},
    )
    for attachment in message.attachments:
        mail_message.attach(attachment.filename, attachment.content_type, attachment.data)
    return mail_message


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 360))


def deliver_outbox(batch: int = 200) -> tuple[int, int]:
    """Send queued messages that are due; return (sent, failed this run).

    It runs in transactions of its own, so whatever the caller had open is committed first.
    """
    db.session.commit()
    with write_intent():
        return _deliver(batch)


def _deliver(batch: int) -> tuple[int, int]:
    token, ids = _claim(batch)
    if not ids:
        return 0, 0
    sent = failed = 0
    try:
        connection = mail.connect()
        connection.__enter__()
    except Exception as exc:  # the server is down: every claimed message waits for a later run
        for message_id in ids:
            _record_failure(db.session.get(OutboxMessage, message_id), token, exc)
            failed += 1
        db.session.commit()
        log.warning("Outbox: mail server unavailable (%s); %d messages wait", type(exc).__name__, failed)
        return 0, failed
    try:
        for message_id in ids:
            message = db.session.get(OutboxMessage, message_id)
            if message is None or message.claim_token != token or message.status != QUEUED:
                continue
            try:
                connection.send(_to_mail_message(message))
            except Exception as exc:
                _record_failure(message, token, exc)
                failed += 1
            else:
                message.status = SENT
                message.sent_at = utcnow()
                message.attempts += 1
                message.claim_token = None
                message.claimed_until = None
                sent += 1
            # One commit per message: a crash mid-batch never makes the sent ones go again.
            db.session.commit()
    finally:
        try:
            connection.__exit__(None, None, None)
        except Exception:
            pass
    log.info("Outbox: %d sent, %d failed", sent, failed)
    return sent, failed


def _record_failure(message: OutboxMessage | None, token: str, exc: Exception) -> None:
    if message is None or message.claim_token != token:
        return
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    message.claim_token = None
    message.claimed_until = None
    if message.attempts >= MAX_ATTEMPTS:
        message.status = FAILED
    else:
        message.next_attempt_at = utcnow() + _backoff(message.attempts)


def retry_message(message: OutboxMessage) -> None:
    """Put a failed message back in the queue for the next run."""
    message.status = QUEUED
    message.next_attempt_at = utcnow()
    message.claim_token = None
    message.claimed_until = None
