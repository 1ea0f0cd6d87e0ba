"""Erasure on request: a person's identity removed everywhere, while the facts stay true.

The person's row stays (as "Erased person", with an address that cannot receive mail), so report
counts, the charges owed by their agency and certificates' verification are unchanged; what
identified them (name, e-mail address, job title, line manager, access needs, free text they wrote,
the messages sent to them and their uploaded certificates) is removed; pre-course material they
uploaded stays with its session, no longer saying who uploaded it. Every other text that held their
name or address (a message to their manager, a line in someone's history) has it replaced.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import delete, func, select, update

from app.accounts.history import record_event
from app.accounts.models import ERASED, AccountEvent, ExternalIdentity, User, new_session_token
from app.accounts.throttling import address_key, clear_failures
from app.attendance.models import Charge, SessionMaterial, Suspension
from app.bookings.models import OWN_STATE_LABELS, Booking, BookingEvent, Completion
from app.clock import utcnow
from app.courses.models import CourseInterest, TrainerProfile
from app.email import QUEUED, OutboxMessage
from app.evaluation.models import TEXT, Answer, Invitation, ManagerComment, Question, Response
from app.extensions import db
from app.privacy import queries
from app.privacy.errors import PrivacyError
from app.privacy.notifications import notify_erasure_request
from app.templating import format_date, format_pence

log = logging.getLogger(__name__)

ERASED_NAME = "Erased person"
# RFC 2606 keeps .invalid for names that can never resolve, so no message can ever be delivered.
PLACEHOLDER_DOMAIN = "erased.invalid"
REMOVED = "[removed]"


def placeholder_email(person_id: int) -> str:
    """A unique address that can never receive mail, for an erased person's row."""
    return f"erased-{person_id}-{secrets.token_hex(4)}@{PLACEHOLDER_DOMAIN}"


def erasure_blockers(person: User, now: datetime | None = None) -> list[str]:
    """What must be settled before the person can be erased, each with why (empty: nothing)."""
    now = now or utcnow()
    reasons = []
    for charge in queries.unpaid_charges(person):
        reasons.append(
            f"A charge of {format_pence(charge.amount_pence)} to "
            f"{charge.agency.name if charge.agency else 'their agency'} for "
            f"{charge.course.title} on {format_date(charge.incurred_on)} is not paid: until it is, "
            "the agency may ask whose place it was. Record the payment, or waive the charge, first."
        )
    for booking in queries.bookings_not_over(person, now):
        reasons.append(
            f"{booking.session.course.title} on {format_date(booking.session.starts_at)} "
            f"({OWN_STATE_LABELS.get(booking.status, booking.status).lower()}) has not happened "
            "yet: the trainer, the register and any waiting list still need the name. Cancel the "
            "booking first."
        )
    for session in queries.sessions_to_train(person, now):
        reasons.append(
            f"They are a trainer of {session.course.title} on {format_date(session.starts_at)}, "
            "which has not happened yet: learners and the register need the trainer’s name. Change "
            "the session’s trainers first."
        )
    return reasons


def erase_person(person: User, *, actor: User | None, reason: str = "at their request") -> None:
    """Remove a person's identity everywhere, keeping counts, charges and certificates true.

    `actor` is the administrator (None: the dormant-account job). Refuses, changing nothing, while
    anything in `erasure_blockers` stands.
    """
    if person.is_erased:
        raise PrivacyError("This person’s details have already been erased.")
    if actor is not None and actor.id == person.id:
        raise PrivacyError("You cannot erase your own account: ask another administrator.")
    reasons = erasure_blockers(person)
    if reasons:
        raise PrivacyError(f"{person.name} cannot be erased yet.",
                           problems=[(None, r) for r in reasons])
    email, name, now = person.email, person.name, utcnow()
    _remove_free_text(person)
    _remove_messages(email, now)
    _forget_as_line_manager(email)
    clear_failures(address_key(email))
    person.role_grants.clear()  # deleted with the account's other orphans at the flush
    # The provider's id for them identifies them; the same provider account signs in afresh.
    db.session.execute(delete(ExternalIdentity).where(ExternalIdentity.user_id == person.id))
    # Asking to hear of new dates is a wish of the person, not a record anyone needs to keep.
    db.session.execute(delete(CourseInterest).where(CourseInterest.user_id == person.id))
    _anonymise_account(person)
    db.session.flush()
    scrub_text(queries.Identity(email, name))
    record_event(person, actor, "erased", reason)
    db.session.flush()
    log.info("Person %s erased by %s", person.id, f"person {actor.id}" if actor else "the service")


def ask_for_erasure(person: User) -> None:
    """Record a person's request to be erased and tell the L&D team (erasure is theirs to do)."""
    if person.is_erased:
        raise PrivacyError("Your details have already been erased.")
    record_event(person, person, "asked for erasure")
    notify_erasure_request(person)


def _remove_free_text(person: User) -> None:
    """What the person wrote or gave: access needs, reasons, written answers, uploaded files."""
    booking_ids = select(Booking.id).where(Booking.user_id == person.id)
    db.session.execute(update(Booking).where(Booking.user_id == person.id).values(
        access_needs="", manager_email="", cancellation_reason=""))
    # Reasons in their bookings' history and for lifting a suspension are free text about them,
    # often their health ("in hospital"): what happened and when stays, the words go.
    db.session.execute(update(BookingEvent).where(
        BookingEvent.booking_id.in_(booking_ids), BookingEvent.reason != "").values(reason=REMOVED))
    db.session.execute(update(Suspension).where(Suspension.user_id == person.id,
                                                Suspension.lift_reason != "").values(lift_reason=REMOVED))
    db.session.execute(update(Completion).where(Completion.user_id == person.id).values(
        evidence="", certificate_name="", certificate_type="", certificate_data=None))
    # A waiver's reason is often the person's health; the charge and its status stay.
    db.session.execute(update(Charge).where(Charge.user_id == person.id, Charge.waiver_reason != "")
                       .values(waiver_reason=REMOVED))
    invitation_ids = select(Invitation.id).where(Invitation.user_id == person.id)
    response_ids = select(Response.id).where(Response.invitation_id.in_(invitation_ids))
    written = select(Question.id).where(Question.kind == TEXT)
    # Written answers and their manager's comments go whole (an empty one would still be listed
    # among the written answers); scale and choice answers stay, so the figures do not change.
    db.session.execute(delete(Answer).where(Answer.response_id.in_(response_ids),
                                            Answer.question_id.in_(written)))
    db.session.execute(delete(ManagerComment).where(ManagerComment.invitation_id.in_(invitation_ids)))
    for invitation in db.session.scalars(select(Invitation).where(Invitation.user_id == person.id)):
        invitation.nonce = secrets.token_hex(16)  # links already sent stop working
    # Their trainer profile (what they deliver, when they are on leave) goes; sessions they trained
    # keep them as trainer (as "Erased person"). Material they uploaded is the session's and stays,
    # no longer saying who uploaded it.
    for profile in db.session.scalars(select(TrainerProfile).where(TrainerProfile.user_id == person.id)):
        profile.courses.clear()
        db.session.delete(profile)
    db.session.execute(update(SessionMaterial).where(SessionMaterial.uploaded_by_id == person.id)
                       .values(uploaded_by_id=None))
    # The history of their details keeps what changed and when, not what it said.
    db.session.execute(update(AccountEvent).where(AccountEvent.user_id == person.id).values(
        from_value=None, to_value=None, detail=""))


def _remove_messages(email: str, now: datetime) -> None:
    """Messages to the person: unsent ones go; sent ones keep only that a message was sent."""
    to_them = func.lower(OutboxMessage.recipient) == email.lower()
    db.session.execute(delete(OutboxMessage).where(to_them, OutboxMessage.status == QUEUED))
    for message in db.session.scalars(select(OutboxMessage).where(to_them)):
        message.recipient = f"{REMOVED}@{PLACEHOLDER_DOMAIN}"
        message.subject = REMOVED
        message.text_body = message.html_body = message.last_error = ""
        message.attachments_json = "[]"
        message.render_json = None
        message.failure_reported_at = message.failure_reported_at or now


def _forget_as_line_manager(email: str) -> None:
    """Other people's records that name the person as their line manager."""
    db.session.execute(update(User).where(func.lower(User.line_manager_email) == email.lower())
                       .values(line_manager_email="", line_manager_name=""))
    db.session.execute(update(Booking).where(func.lower(Booking.manager_email) == email.lower()).values(manager_email=""))
    db.session.execute(update(ManagerComment).where(func.lower(ManagerComment.manager_email) == email.lower())
                       .values(manager_email=""))


def _anonymise_account(person: User) -> None:
    person.name = ERASED_NAME
    person.email = placeholder_email(person.id)
    person.job_title = person.line_manager_name = person.line_manager_email = person.access_needs = ""
    person.password_hash = None
    person.email_verified_at = person.last_sign_in_at = person.dormant_warned_at = None
    person.status = ERASED
    person.session_token = new_session_token()  # every session and remember-me cookie ends
    person.calendar_token = secrets.token_urlsafe(32)


def scrub_text(identity: queries.Identity) -> int:
    """Replace the person's address and name in every text column of every other table; return
    how many values changed."""
    changed = 0
    for table in db.metadata.sorted_tables:
        if table.name == queries.USERS:
            continue  # the person's row is anonymised above; other people's names are their own
        for column in queries.text_columns(table):
            for row in queries.rows_with_text(table, column, identity):
                key = [c == v for c, v in zip(table.primary_key.columns, queries.key_of(table, row))]
                db.session.execute(update(table).where(*key).values(
                    {column.name: identity.pattern.sub(REMOVED, row.value)}))
                changed += 1
    return changed
