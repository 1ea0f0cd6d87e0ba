"""Reads for subject access, erasure, dormant accounts and the access log page.

Where a person appears is found from the schema itself, not from a list kept by hand: every column
with a foreign key to `users`, and every text column holding their e-mail address or name. A table
added later is therefore in a subject access file and scrubbed at erasure without changes here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Select, String, Table, func, or_, select, type_coerce
from sqlalchemy.orm import joinedload

from app.access_log import AccessLogEntry
from app.accounts.models import ERASED, AccountEvent, ExternalIdentity, RoleGrant, User
from app.attendance.models import CHARGE_DUE, Certificate, Charge, SessionMaterial, SingleAgencyAttendee, Suspension
from app.bookings.models import ACTIVE_STATES, Booking, BookingEvent, Completion, WorkshopChoice
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import CourseInterest, Session, TrainerProfile, TrainerUnavailability, session_trainers
from app.email import OutboxMessage
from app.evaluation.models import Answer, Invitation, ManagerComment, Response
from app.extensions import db

USERS = "users"


@dataclass(frozen=True)
class Mention:
    """A row that refers to a person: its table, primary key and the columns that do so."""

    table: str
    key: tuple
    columns: tuple[str, ...]


def key_of(table: Table, row) -> tuple:
    """A row's primary key as a tuple of plain values."""
    return tuple(getattr(row, c.name) for c in table.primary_key.columns)


def text_columns(table: Table) -> list[Column]:
    """A table's columns that hold text (where a name or an e-mail address can be written)."""
    return [c for c in table.columns if isinstance(c.type, String)]


# A name shorter than this is not searched for as text (it would be found inside other words).
SHORTEST_NAME = 4


@dataclass(frozen=True)
class Identity:
    """How a person is written in text: their e-mail address (anywhere, ignoring case) and their
    name (as whole words, ignoring case)."""

    email: str
    name: str

    @property
    def needles(self) -> list[str]:
        return [n for n in (self.email, self.name if len(self.name.strip()) >= SHORTEST_NAME else "") if n]

    @property
    def pattern(self) -> re.Pattern:
        parts = [re.escape(self.email)] if self.email else []
        if self.name in self.needles:
            parts.append(rf"(?<!\w){re.escape(self.name)}(?!\w)")
        return re.compile("|".join(parts) or "(?!)", re.I)


def _may_hold(column: Column, identity: Identity):
    return or_(*(func.lower(column).contains(n.lower(), autoescape=True) for n in identity.needles))


def rows_with_text(table: Table, column: Column, identity: Identity) -> list:
    """The rows (primary key and the column's value) whose `column` holds the person's address or
    name (the database narrows by substring; the pattern then keeps whole names only)."""
    if not identity.needles:
        return []
    rows = db.session.execute(
        select(*table.primary_key.columns, column.label("value")).where(_may_hold(column, identity)))
    return [row for row in rows if identity.pattern.search(row.value)]


def mentions(person_id: int, identity: Identity) -> list[Mention]:
    """Every row of every table holding the person's id (by foreign key), or their e-mail address
    or name in a text column; the person's own users row included."""
    found: dict[tuple[str, tuple], set[str]] = {}
    for table in db.metadata.sorted_tables:
        by_id = [c for c in table.columns if any(fk.column.table.name == USERS for fk in c.foreign_keys)]
        if table.name == USERS:
            by_id = [table.c.id]
        for column in by_id:
            for row in db.session.execute(select(*table.primary_key.columns).where(column == person_id)):
                found.setdefault((table.name, key_of(table, row)), set()).add(column.name)
        for column in text_columns(table):
            for row in rows_with_text(table, column, identity):
                found.setdefault((table.name, key_of(table, row)), set()).add(column.name)
    return [Mention(name, key, tuple(sorted(cols))) for (name, key), cols in sorted(found.items(), key=str)]


def table_named(name: str) -> Table:
    return db.metadata.tables[name]


# --- The person's own records, for the subject access file --------------------------------------

def own_rows(person: User) -> dict[str, list]:
    """The person's own records, table by table (their account, bookings and what followed)."""
    bookings = list(db.session.scalars(select(Booking).where(Booking.user_id == person.id).order_by(Booking.id)))
    booking_ids = [b.id for b in bookings] or [-1]
    invitations = list(db.session.scalars(
        select(Invitation).where(Invitation.user_id == person.id).order_by(Invitation.id)))
    invitation_ids = [i.id for i in invitations] or [-1]
    responses = list(db.session.scalars(
        select(Response).where(Response.invitation_id.in_(invitation_ids)).order_by(Response.id)))
    profiles = list(db.session.scalars(select(TrainerProfile).where(TrainerProfile.user_id == person.id)))
    return {
        "users": [person],
        "role_grants": list(db.session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == person.id).order_by(RoleGrant.id))),
        "account_events": list(db.session.scalars(
            select(AccountEvent).where(AccountEvent.user_id == person.id).order_by(AccountEvent.id))),
        "external_identities": list(db.session.scalars(
            select(ExternalIdentity).where(ExternalIdentity.user_id == person.id)
            .order_by(ExternalIdentity.id))),
        "bookings": bookings,
        "booking_events": list(db.session.scalars(
            select(BookingEvent).where(BookingEvent.booking_id.in_(booking_ids)).order_by(BookingEvent.id))),
        "workshop_choices": list(db.session.scalars(
            select(WorkshopChoice).where(WorkshopChoice.booking_id.in_(booking_ids)).order_by(WorkshopChoice.id))),
        "charges": list(db.session.scalars(
            select(Charge).where(Charge.user_id == person.id).order_by(Charge.id))),
        "suspensions": list(db.session.scalars(
            select(Suspension).where(Suspension.user_id == person.id).order_by(Suspension.id))),
        "certificates": list(db.session.scalars(
            select(Certificate).where(Certificate.booking_id.in_(booking_ids)).order_by(Certificate.id))),
        "completions": list(db.session.scalars(
            select(Completion).where(Completion.user_id == person.id).order_by(Completion.id))),
        "course_interests": list(db.session.scalars(
            select(CourseInterest).where(CourseInterest.user_id == person.id).order_by(CourseInterest.id))),
        "single_agency_attendees": list(db.session.scalars(
            select(SingleAgencyAttendee).where(SingleAgencyAttendee.user_id == person.id)
            .order_by(SingleAgencyAttendee.id))),
        "evaluation_invitations": invitations,
        "evaluation_responses": responses,
        "evaluation_answers": list(db.session.scalars(
            select(Answer).where(Answer.response_id.in_([r.id for r in responses] or [-1]))
            .order_by(Answer.id))),
        "evaluation_manager_comments": list(db.session.scalars(
            select(ManagerComment).where(ManagerComment.invitation_id.in_(invitation_ids))
            .order_by(ManagerComment.id))),
        "outbox_messages": list(db.session.scalars(
            select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == person.email.lower())
            .order_by(OutboxMessage.id))),
        "access_log_entries": list(db.session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.subject_user_id == person.id)
            .order_by(AccessLogEntry.id))),
        "trainer_profiles": profiles,
        "trainer_unavailability": list(db.session.scalars(
            select(TrainerUnavailability).where(TrainerUnavailability.profile_id.in_([p.id for p in profiles] or [-1]))
            .order_by(TrainerUnavailability.id))),
        "session_materials": list(db.session.scalars(
            select(SessionMaterial).where(SessionMaterial.uploaded_by_id == person.id).order_by(SessionMaterial.id))),
    }


def certificate_data(completion_id: int) -> bytes | None:
    """An uploaded certificate's bytes (deferred on the row)."""
    return db.session.scalar(select(Completion.certificate_data).where(Completion.id == completion_id))


# --- What stops an erasure ---------------------------------------------------------------------

def unpaid_charges(person: User) -> list[Charge]:
    """Charges for the person's missed places still due from their agency and not yet paid."""
    return list(db.session.scalars(
        select(Charge).where(Charge.user_id == person.id, Charge.status == CHARGE_DUE,
                             Charge.paid_at.is_(None)).order_by(Charge.incurred_on)))


def bookings_not_over(person: User, now: datetime) -> list[Booking]:
    """The person's places held, asked for or waited for on sessions that have not ended."""
    return list(db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.user_id == person.id, Booking.status.in_(ACTIVE_STATES), Session.ends_at > now)
        .order_by(Session.starts_at)))


def sessions_to_train(person: User, now: datetime) -> list[Session]:
    """Sessions the person is a trainer of that have not ended (and are not cancelled)."""
    return list(db.session.scalars(
        select(Session).join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(session_trainers.c.user_id == person.id, Session.ends_at > now,
               Session.status != SESSION_CANCELLED)
        .order_by(Session.starts_at)))


# --- Dormant accounts ----------------------------------------------------------------------------

def last_seen_expression():
    """Each person's latest sign-in, booking or registration (the latest sign of use)."""
    last_booking = (select(func.max(Booking.created_at)).where(Booking.user_id == User.id)
                    .correlate(User).scalar_subquery())
    # SQLite's max() of several arguments is PostgreSQL's greatest().
    greatest = func.greatest if db.engine.dialect.name == "postgresql" else func.max
    return type_coerce(greatest(User.created_at, func.coalesce(User.last_sign_in_at, User.created_at),
                                func.coalesce(last_booking, User.created_at)), DateTime())


def unused_since(before: datetime) -> list[tuple[int, datetime, datetime | None]]:
    """(id, last seen, when warned) of people, not yet erased, whose last use was before `before`."""
    seen = last_seen_expression()
    return [tuple(row) for row in db.session.execute(
        select(User.id, seen, User.dormant_warned_at).where(User.status != ERASED, seen < before)
        .order_by(User.id))]


def last_seen(person: User) -> datetime:
    """When the person last signed in, booked or registered."""
    db.session.flush()
    return db.session.scalar(select(last_seen_expression()).where(User.id == person.id))


def access_log_entries(*, viewer_id: int | None, kind: str | None, subject_id: int | None,
                       starts: datetime, ends: datetime) -> Select:
    """Entries from `starts` to before `ends` (naive UTC), newest first, with who looked and whose
    page it was loaded."""
    query = (
        select(AccessLogEntry)
        .options(joinedload(AccessLogEntry.viewer), joinedload(AccessLogEntry.subject))
        .where(AccessLogEntry.at >= starts, AccessLogEntry.at < ends)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
    )
    if viewer_id is not None:
        query = query.where(AccessLogEntry.viewer_id == viewer_id)
    if kind is not None:
        query = query.where(AccessLogEntry.kind == kind)
    if subject_id is not None:
        query = query.where(AccessLogEntry.subject_user_id == subject_id)
    return query


def access_log_viewers() -> list[User]:
    """Everyone who appears in the access log as having looked, by name."""
    viewer_ids = select(AccessLogEntry.viewer_id).distinct().scalar_subquery()
    return list(db.session.scalars(
        select(User).where(User.id.in_(viewer_ids)).order_by(User.name, User.id)))
