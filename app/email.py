"""The outbox: the one module that touches Flask-Mail.

A message is written to the outbox in the same transaction as the change that caused it and
delivered after commit by the job runner (`flask jobs work`, or `flask jobs run` from cron), never
inside a web request, so a rolled-back change never sends mail, a crash never loses one and a slow
mail server never slows a page.

A message can also be queued to be rendered by the runner (`render_later`): the row then holds the
template, the context as it was when queued and the attachments to build (a calendar, say), and the
runner renders it before sending; the request that queued it spends no time on it.

Delivery claims a few due messages and commits, talks SMTP with no transaction open, then records
each outcome in a short transaction of its own. Every attempt at a message carries the same
Message-ID, so if a server stored a message but dropped the connection before saying so, the
copy a retry delivers is recognisable as the same message.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import NamedTuple

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import String, Text, bindparam, func, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column

from app.clock import utcnow
from app.extensions import db, mail
from app.locking import write_intent
from app.urls import external_url

log = logging.getLogger(__name__)

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
# Messages claimed at once by one delivery pass.
CLAIM_BATCH = 50
# A claim older than this is free again (a runner that died loses its messages this soon); a live
# runner renews its claim long before.
CLAIM_SECONDS = 120
# Accepted messages are recorded as sent this many at a time, or after this many seconds.
RECORD_EVERY = 50
RECORD_EVERY_SECONDS = 1.0
# The longest gap between two attempts at a message.
MAX_BACKOFF = timedelta(hours=4)
# Key prefix of the L&D team's notice of failed messages (never itself reported, so no loop).
FAILURE_NOTICE_KEY = "outbox-failures:"


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
    # The same Message-ID on every attempt (older rows get one derived from their id at sending).
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Retries stop at this moment; an administrator's "try again" opens a new period.
    retry_until: Mapped[datetime | None]
    # When the L&D team was told this message failed (they are told once).
    failure_reported_at: Mapped[datetime | None]
    # A message rendered by the job runner, not in the request that queued it: the template, the
    # context captured at queue time (plain values and model rows' loaded values) and the attachments
    # to build. Emptied once rendered into the bodies above; only rendered rows are claimed to send.
    render_json: Mapped[str | None] = mapped_column(Text)
    # The template the message was written from (what kind of message it was): kept when the
    # retention job removes the subject, bodies and attachments (app/privacy/retention.py).
    template: Mapped[str | None] = mapped_column(String(120))
    # When it was marked failed (retention counts from here, as from sent_at for a sent one).
    failed_at: Mapped[datetime | None]
    # When the retention job removed its subject, bodies and attachments; it can no longer be sent.
    content_removed_at: Mapped[datetime | None] = mapped_column(index=True)

    @property
    def attachments(self) -> list[Attachment]:
        return _attachments(self.attachments_json)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, or with `inline` a text part beside the text and HTML bodies.

    An inline part goes in the message's multipart/alternative with its content type's parameters
    kept: a calendar must arrive as text/calendar; method=REQUEST there (iMIP, RFC 6047) for Outlook
    and Exchange to treat the message as a meeting request. A message has at most one inline part
    of each type.
    """

    filename: str
    content_type: str
    data: bytes
    inline: bool = False


def calendar_part(method: str, data: bytes, filename: str = "invite.ics") -> Attachment:
    """The inline text/calendar part of an iMIP message (METHOD `method`), in UTF-8."""
    return Attachment(filename, f"text/calendar; method={method}; charset=utf-8", data, inline=True)


@dataclass(frozen=True)
class BuiltAttachment:
    """An attachment built when the message is rendered, by a builder registered under `builder`
    (see `attachment_builder`) called with `args` (captured like the message's context)."""

    builder: str
    args: dict


_builders: dict[str, Callable[..., Attachment]] = {}


def attachment_builder(name: str):
    """Register the decorated function as the builder of attachments named `name`."""
    def decorator(func: Callable[..., Attachment]) -> Callable[..., Attachment]:
        _builders[name] = func
        return func
    return decorator


def _built(attachments: list[Attachment | BuiltAttachment]) -> list[Attachment]:
    return [_builders[a.builder](**a.args) if isinstance(a, BuiltAttachment) else a for a in attachments]


def _attachments(attachments_json: str | None) -> list[Attachment]:
    # Rows from before inline parts have no "inline" key: they were all files.
    return [
        Attachment(a["filename"], a["content_type"], base64.b64decode(a["data"]), bool(a.get("inline")))
        for a in json.loads(attachments_json or "[]")
    ]


def _attachment_json(attachment: Attachment) -> dict:
    if attachment.inline:
        main_type, subtype, _ = _content_type(attachment.content_type)
        if main_type != "text":
            raise ValueError(f"An inline part must be text, not {attachment.content_type}")
    stored = {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "data": base64.b64encode(attachment.data).decode("ascii"),
    }
    if attachment.inline:
        stored["inline"] = True
    return stored


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """The main type, subtype and parameters of a Content-Type value (parameter names in lower case)."""
    header = EmailMessage()
    header["Content-Type"] = value
    params = {name.lower(): str(param) for name, param in header["Content-Type"].params.items()}
    return header.get_content_maintype(), header.get_content_subtype(), params


def queue_email(
    *,
    key: str,
    to: str,
    subject: str,
    template: str,
    attachments: list[Attachment | BuiltAttachment] | None = None,
    render_later: bool = False,
    **context,
) -> OutboxMessage | None:
    """Queue a message rendered from `<template>.txt` and `<template>.html`, once per key.

    `render_later`: the job runner renders it (and builds its BuiltAttachments) before sending it,
    from the context as it is now: plain values, and the values already loaded on model rows (what
    is not loaded is read from the row when the message is rendered). A context that cannot be
    captured (a value of another kind) is rendered at once. Returns None when a message with this
    key was queued before.
    """
    context.setdefault("partnership_name", current_app.config["PARTNERSHIP_NAME"])
    context.setdefault("service_name", current_app.config["SERVICE_NAME"])
    context.setdefault("base_url", current_app.config["BASE_URL"])
    attachments = attachments or []
    render_json = None
    if render_later:
        try:
            render_json = json.dumps({"template": template, **_captured(context, attachments)})
        except TypeError:
            render_json = None
    if render_json is None:
        text_body, html_body, attachments_json = _rendered(template, context, _built(attachments))
    else:
        text_body = html_body = ""
        attachments_json = "[]"
    now = utcnow()
    values = dict(
        idempotency_key=key,
        recipient=to.strip().lower(),
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        attachments_json=attachments_json,
        render_json=render_json,
        template=template,
        status=QUEUED,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
        message_id=make_msgid(domain=_sender_domain()),
        retry_until=now + timedelta(hours=current_app.config["MAIL_RETRY_HOURS"]),
    )
    message_id = db.session.scalar(_queue_statement(db.engine.dialect.name, tuple(values)), values)
    if message_id is None:
        return None
    message = OutboxMessage(id=message_id, claim_token=None, claimed_until=None, sent_at=None,
                            failure_reported_at=None, failed_at=None, content_removed_at=None, **values)
    make_transient_to_detached(message)
    db.session.add(message)
    return message


_queue_statements: dict = {}


def _queue_statement(dialect: str, columns: tuple[str, ...]):
    """The insert that queues a message with these columns, built once per database: one
    statement, in which a key queued before (or by a writer racing on it) inserts nothing and the
    caller's transaction goes on unharmed."""
    if (dialect, columns) not in _queue_statements:
        dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        _queue_statements[dialect, columns] = (
            dialect_insert(OutboxMessage).values({name: bindparam(name) for name in columns})
            .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
            .returning(OutboxMessage.id)
        )
    return _queue_statements[dialect, columns]


def _rendered(template: str, context: dict, attachments: list[Attachment]) -> tuple[str, str, str]:
    """The text body, HTML body and stored attachments of a message."""
    return (
        render_template(f"{template}.txt", **context),
        render_template(f"{template}.html", **context),
        json.dumps([_attachment_json(a) for a in _one_inline_each(attachments)]),
    )


# ---------------------------------------------------------------- rendering later, by the runner
#
# A captured context is JSON: plain values as themselves, {"$dt": iso}, {"$date": iso},
# {"$dict": {...}}, and {"$row": "Class:id"} naming an entry of "rows", which holds the row's class,
# id and the values that were loaded on it when the message was queued (nested rows captured to a
# small depth). Rendering reads those values; anything else is read from the row as it is then.

_ROW_DEPTH = 3
_SECRET_WORDS = ("password", "secret", "token")


def _captured(context: dict, attachments: list[Attachment | BuiltAttachment]) -> dict:
    rows: dict[str, dict] = {}
    values = {name: _capture(value, rows, 0) for name, value in context.items()}
    built = [
        {"builder": a.builder, "args": {name: _capture(v, rows, 0) for name, v in a.args.items()}}
        if isinstance(a, BuiltAttachment) else _attachment_json(a)
        for a in attachments
    ]
    return {"context": {"values": values, "rows": rows}, "attachments": built}


def _capture(value, rows: dict, depth: int):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return [_capture(v, rows, depth) for v in value]
    if isinstance(value, dict):
        return {"$dict": {str(k): _capture(v, rows, depth) for k, v in value.items()}}
    if isinstance(value, db.Model):
        return {"$row": _capture_row(value, rows, depth)}
    raise TypeError(f"{type(value).__name__} cannot be captured for rendering later")


def _capture_row(row, rows: dict, depth: int) -> str:
    state = sa_inspect(row)
    name = type(row).__name__
    key = f"{name}:{state.identity[0] if state.identity else id(row)}"
    if key in rows:
        return key
    entry = {"class": name, "id": state.identity[0] if state.identity else None, "values": {}}
    rows[key] = entry
    mapper = state.mapper
    expired = state.expired_attributes & {attr.key for attr in mapper.column_attrs}
    if expired:
        getattr(row, next(iter(expired)))  # loads the expired columns: the values as they are now
    loaded = state.dict
    for attr in mapper.column_attrs:
        # Secrets stay out of the outbox; a template never shows them.
        if attr.key in loaded and not any(word in attr.key for word in _SECRET_WORDS):
            try:
                entry["values"][attr.key] = _capture(loaded[attr.key], rows, depth)
            except TypeError:
                pass  # read from the row when rendering
    if depth < _ROW_DEPTH:
        for rel in mapper.relationships:
            if rel.key in loaded:
                try:
                    entry["values"][rel.key] = _capture(loaded[rel.key], rows, depth + 1)
                except TypeError:
                    pass
    return key


class _CapturedRow:
    """A row as it was captured: its captured values, anything else read from the row now."""

    def __init__(self, model, row_id, values: dict):
        self._model = model
        self._id = row_id
        self._values = values
        self._row = None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        if self._row is None:
            self._row = db.session.get(self._model, self._id) if self._id is not None else None
            if self._row is None:
                raise LookupError(f"{self._model.__name__} {self._id} no longer exists")
        return getattr(self._row, name)


def _model_class(name: str):
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == name:
            return mapper.class_
    raise LookupError(f"No model {name}")


def _restored(captured: dict, more: list[dict] | None = None) -> tuple[dict, list[dict]]:
    """The captured context, and each of `more` (captured with the same rows), restored."""
    rows: dict[str, _CapturedRow] = {}
    for key, entry in captured["rows"].items():
        rows[key] = _CapturedRow(_model_class(entry["class"]), entry["id"], {})

    def restore(value):
        if isinstance(value, list):
            return [restore(v) for v in value]
        if isinstance(value, dict):
            if "$dt" in value:
                return datetime.fromisoformat(value["$dt"])
            if "$date" in value:
                return date.fromisoformat(value["$date"])
            if "$row" in value:
                return rows[value["$row"]]
            return {k: restore(v) for k, v in value["$dict"].items()}
        return value

    for key, entry in captured["rows"].items():
        rows[key]._values.update({name: restore(v) for name, v in entry["values"].items()})
    context = {name: restore(v) for name, v in captured["values"].items()}
    return context, [{name: restore(v) for name, v in values.items()} for values in more or []]


def render_queued(render_json: str) -> tuple[str, str, str]:
    """Render a message queued with render_later: (text body, HTML body, stored attachments)."""
    spec = json.loads(render_json)
    built = [a for a in spec["attachments"] if "builder" in a]
    context, args = _restored(spec["context"], [a["args"] for a in built])
    arguments = iter(args)
    attachments = [
        BuiltAttachment(a["builder"], next(arguments)) if "builder" in a else _attachments(json.dumps([a]))[0]
        for a in spec["attachments"]
    ]
    return _rendered(spec["template"], context, _built(attachments))


def outbox_text(message: OutboxMessage) -> str:
    """The message's text body, rendered now for a message the runner has not rendered yet."""
    if message.render_json is None:
        return message.text_body
    try:
        return render_queued(message.render_json)[0]
    except Exception as exc:
        return f"(This message cannot be rendered yet: {_describe(exc)})"


def _render_due(limit: int) -> int:
    """Render up to `limit` queued messages waiting to be rendered; return how many were rendered.

    Reading and rendering take no write lock; the bodies are then written in one short transaction
    (a row another runner rendered meanwhile is left as it is).
    """
    pending = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.render_json)
        .where(OutboxMessage.status == QUEUED, OutboxMessage.render_json.is_not(None))
        .order_by(OutboxMessage.id).limit(limit)
    ).all()
    if not pending:
        db.session.commit()
        return 0
    done: list[tuple[int, dict]] = []
    for message_id, render_json in pending:
        try:
            text_body, html_body, attachments_json = render_queued(render_json)
        except Exception as exc:
            log.exception("Outbox: message %d could not be rendered", message_id)
            done.append((message_id, {"status": FAILED, "failed_at": utcnow(),
                                      "last_error": f"Rendering: {_describe(exc)}"[:1000]}))
        else:
            done.append((message_id, {"text_body": text_body, "html_body": html_body,
                                      "attachments_json": attachments_json, "render_json": None}))
    db.session.rollback()
    with write_intent():
        for message_id, values in done:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.render_json.is_not(None))
                .values(**values).execution_options(synchronize_session=False)
            )
        db.session.commit()
    return len(done)


def _one_inline_each(attachments: list[Attachment]) -> list[Attachment]:
    inline_types = [_content_type(a.content_type)[1] for a in attachments if a.inline]
    if len(inline_types) != len(set(inline_types)):
        raise ValueError("A message has at most one inline part of each type")
    return attachments


def _sender_domain() -> str:
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return address.rpartition("@")[2] or "localhost"



# ---------------------------------------------------------------- delivery


class Delivery(NamedTuple):
    """What one delivery pass did: messages sent, and failed attempts (retried later or given up)."""

    sent: int
    failed: int


@dataclass(frozen=True)
class _Claimed:
    """A claimed message, read into plain values so that sending needs no open transaction."""

    id: int
    recipient: str
    subject: str
    text_body: str
    html_body: str
    attachments_json: str
    message_id: str
    message_id_is_new: bool = False  # derived for a row from before rows kept their own


class _Permanent(Exception):
    """The server refused this message for good (a 5xx answer for its recipient or content)."""

    def __init__(self, code: int, reply: str):
        super().__init__(f"{code} {reply}")
        self.code = code


def _claim(token: str, batch: int) -> list[_Claimed]:
    """Claim up to `batch` due messages for this pass and commit, so other runners skip them."""
    now = utcnow()
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now, free,
               OutboxMessage.render_json.is_(None))
        .order_by(OutboxMessage.id)
        .limit(batch)
        # PostgreSQL: rows another runner is claiming right now are passed over, not waited for.
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(claim_token=token, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
    rows = db.session.execute(
        select(
            OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.text_body,
            OutboxMessage.html_body, OutboxMessage.attachments_json, OutboxMessage.message_id,
            OutboxMessage.created_at,
        )
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == QUEUED)
        .order_by(OutboxMessage.id)
    ).all()
    db.session.commit()
    return [
        _Claimed(r.id, r.recipient, r.subject, r.text_body, r.html_body, r.attachments_json,
                 r.message_id or _derived_message_id(r.id, r.created_at), r.message_id is None)
        for r in rows
    ]


def _derived_message_id(message_id: int, created_at: datetime) -> str:
    """A stable Message-ID for a row queued before rows kept their own."""
    digest = hashlib.sha256(f"{message_id}:{created_at.isoformat()}".encode()).hexdigest()[:16]
    return f"<outbox.{message_id}.{digest}@{_sender_domain()}>"


def _renew_claim(token: str) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == QUEUED)
        .values(claimed_until=utcnow() + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _release_claim(token: str) -> None:
    """Hand back messages this pass claimed but did not try, as they were."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == QUEUED)
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


class _Message(Message):
    """Flask-Mail's Message, whose alternative body parts keep their Content-Type parameters.

    Flask-Mail writes an alternative as text/<subtype>; charset="utf-8" and no more; a calendar
    needs its method parameter there too.
    """

    def __init__(self, *args, alt_params: dict[str, dict[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.alt_params = alt_params or {}

    def _mimetext(self, text, subtype="plain"):
        part = super()._mimetext(text, subtype)
        for name, value in self.alt_params.get(subtype, {}).items():
            part.set_param(name, value, requote=False)
        return part


def _mime(message: _Claimed) -> bytes:
    mail_message = _Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.text_body,
        html=message.html_body or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-Outbox-Id": str(message.id)},
    )
    mail_message.msgId = message.message_id
    for attachment in _attachments(message.attachments_json):
        if attachment.inline:
            # After the HTML (Flask-Mail writes alternatives in order): mail programs show the last
            # alternative they understand, and calendar programs find the calendar wherever it is.
            _, subtype, params = _content_type(attachment.content_type)
            charset = params.pop("charset", "utf-8")
            mail_message.alts[subtype] = attachment.data.decode(charset)
            mail_message.alt_params[subtype] = params
        else:
            mail_message.attach(attachment.filename, attachment.content_type, attachment.data)
    return mail_message.as_bytes()


class _SmtpConnection:
    """One SMTP session with the configured server, every wait bounded by MAIL_TIMEOUT."""

    def __init__(self):
        config = current_app.config
        timeout = config["MAIL_TIMEOUT"]
        server, port = config["MAIL_SERVER"], config["MAIL_PORT"]
        if config.get("MAIL_USE_SSL"):
            self.smtp: smtplib.SMTP = smtplib.SMTP_SSL(server, port, timeout=timeout)
        else:
            self.smtp = smtplib.SMTP(server, port, timeout=timeout)
        try:
            if config.get("MAIL_USE_TLS"):
                self.smtp.starttls()
            if config.get("MAIL_USERNAME"):
                self.smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except Exception:
            self.close()
            raise
        self.envelope_from = parseaddr(config["MAIL_DEFAULT_SENDER"])[1]

    def send(self, recipient: str, data: bytes) -> None:
        try:
            self.smtp.sendmail(self.envelope_from, [recipient], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            if code >= 500:
                raise _Permanent(code, _text(reply)) from exc
            raise
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                raise _Permanent(exc.smtp_code, _text(exc.smtp_error)) from exc
            raise

    def close(self) -> None:
        try:
            self.smtp.quit()
        except Exception:
            self.smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** attempts), MAX_BACKOFF)


def _record_sent(messages: list[_Claimed], token: str) -> None:
    """Mark messages the server accepted as sent, in one short transaction."""
    if not messages:
        return
    with write_intent():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([m.id for m in messages]), OutboxMessage.claim_token == token)
            .values(status=SENT, sent_at=utcnow(), attempts=OutboxMessage.attempts + 1,
                    claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        # Rows from before messages kept their Message-ID keep the one they were sent with.
        for message in messages:
            if message.message_id_is_new:
                db.session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == message.id)
                    .values(message_id=message.message_id).execution_options(synchronize_session=False)
                )
        db.session.commit()


def _record_failure(message: _Claimed, token: str, error: str, permanent: bool) -> None:
    row = db.session.get(OutboxMessage, message.id, populate_existing=True)
    if row is None or row.claim_token != token:
        db.session.commit()
        return
    now = utcnow()
    row.attempts += 1
    row.last_error = error
    row.message_id = row.message_id or message.message_id
    row.claim_token = None
    row.claimed_until = None
    next_attempt = now + _backoff(row.attempts)
    if permanent or (row.retry_until is not None and next_attempt > row.retry_until):
        row.status = FAILED
        row.failed_at = now
    elif row.retry_until is None:
        # A row from before retry windows: its window runs from when it was queued.
        row.retry_until = row.created_at + timedelta(hours=current_app.config["MAIL_RETRY_HOURS"])
        row.next_attempt_at = next_attempt
    else:
        row.next_attempt_at = next_attempt
    db.session.commit()


def deliver_outbox(seconds: float | None = None,
                   keep_going: Callable[[], bool] | None = None) -> Delivery:
    """Send the queued messages that are due, until none is left or the time is up.

    `seconds` bounds the pass (MAIL_DELIVERY_SECONDS by default); `keep_going` is asked before each
    message (the job runner renews its lease there and stops on SIGTERM). Whatever the caller had
    open is committed first: no transaction stays open while the mail server is talked to.
    """
    db.session.commit()
    budget = current_app.config["MAIL_DELIVERY_SECONDS"] if seconds is None else seconds
    deadline = time.monotonic() + budget
    token = secrets.token_hex(16)
    sent = failed = 0
    connection: _SmtpConnection | None = None
    # Accepted messages are recorded together, every RECORD_EVERY messages or seconds: a transaction
    # per message would cost more than the SMTP exchange. A crash in between sends those few again,
    # under the same Message-IDs.
    accepted: list[_Claimed] = []
    accepted_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            _render_due(CLAIM_BATCH)
            with write_intent():
                batch = _claim(token, CLAIM_BATCH)
            if not batch:
                break
            renewed = time.monotonic()
            stopped = False
            for message in batch:
                if time.monotonic() >= deadline or (keep_going is not None and not keep_going()):
                    stopped = True
                    break
                if len(accepted) >= RECORD_EVERY or time.monotonic() - accepted_since > RECORD_EVERY_SECONDS:
                    _record_sent(accepted, token)
                    accepted, accepted_since = [], time.monotonic()
                if time.monotonic() - renewed > CLAIM_SECONDS / 3:
                    with write_intent():
                        _renew_claim(token)
                    renewed = time.monotonic()
                try:
                    data = _mime(message)
                    if connection is None:
                        connection = _SmtpConnection()
                    connection.send(message.recipient, data)
                except _Permanent as exc:
                    with write_intent():
                        _record_failure(message, token, str(exc), permanent=True)
                    failed += 1
                    # The code only: a server's reply often quotes the recipient's address.
                    log.warning("Outbox: message %d refused for good (SMTP %d)", message.id, exc.code)
                except Exception as exc:
                    # Anything else may be the connection's fault: try again later, on a new one.
                    reached = connection is not None
                    if connection is not None:
                        connection.close()
                        connection = None
                    with write_intent():
                        _record_failure(message, token, _describe(exc), permanent=False)
                    failed += 1
                    if not reached:
                        # No connection to be had: the others wait for the next pass unharmed.
                        log.warning("Outbox: mail server unavailable (%s)", type(exc).__name__)
                        stopped = True
                        break
                else:
                    if not accepted:
                        accepted_since = time.monotonic()
                    accepted.append(message)
                    sent += 1
            _record_sent(accepted, token)
            accepted = []
            with write_intent():
                _release_claim(token)
            if stopped:
                break
    finally:
        _record_sent(accepted, token)
        if connection is not None:
            connection.close()
    if sent or failed:
        log.info("Outbox: %d sent, %d failed attempts", sent, failed)
    return Delivery(sent, failed)


def retry_message(message: OutboxMessage) -> None:
    """Put a failed message back in the queue for the next run, with a new retry period.

    A message whose content the retention job removed cannot be sent again (nothing is left to send).
    """
    if message.content_removed_at is not None:
        raise ValueError("This message's content was removed; it cannot be sent again.")
    message.status = QUEUED
    message.failed_at = None
    message.next_attempt_at = utcnow()
    message.retry_until = utcnow() + timedelta(hours=current_app.config["MAIL_RETRY_HOURS"])
    message.failure_reported_at = None
    message.claim_token = None
    message.claimed_until = None


def retry_failed_messages() -> int:
    """Put every failed message back in the queue; return how many."""
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.status == FAILED, OutboxMessage.content_removed_at.is_(None))).all()
    for message in messages:
        retry_message(message)
    return len(messages)


def report_failed_messages() -> int:
    """Tell the L&D team, once, about messages that failed for good; return how many were reported."""
    failed = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == FAILED, OutboxMessage.failure_reported_at.is_(None),
               OutboxMessage.content_removed_at.is_(None),
               OutboxMessage.idempotency_key.not_like(f"{FAILURE_NOTICE_KEY}%"))
        .order_by(OutboxMessage.id)
    ).all()
    if not failed:
        return 0
    ids = ",".join(str(m.id) for m in failed)
    queue_email(
        key=FAILURE_NOTICE_KEY + hashlib.sha256(ids.encode()).hexdigest(),
        to=current_app.config["L_AND_D_EMAIL"],
        subject=f"{len(failed)} e-mail{'s' if len(failed) != 1 else ''} could not be delivered",
        template="admin/emails/mail_failed",
        messages=failed,
        outbox_link=external_url("admin.outbox", status=FAILED),
    )
    now = utcnow()
    for message in failed:
        message.failure_reported_at = now
    return len(failed)


def outbox_counts() -> dict[str, int]:
    """How many messages are waiting, sent and failed."""
    return dict(db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def outbox_listing(status: str = ""):
    """The outbox's messages, newest first, only those with `status` when it is one of the three."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in (QUEUED, SENT, FAILED):
        query = query.where(OutboxMessage.status == status)
    return query
