"""Registering an account and confirming its e-mail address."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.accounts import notifications
from app.accounts.addresses import check_not_generic, email_matches_agency, normalise_email
from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.models import ACTIVE, PENDING_APPROVAL, Agency, User, find_user_by_email
from app.accounts.passwords import check_password_strength, hash_password
from app.accounts.tokens import LinkError, make_token, read_token
from app.clock import utcnow
from app.extensions import db


@dataclass(frozen=True)
class Registration:
    """What registering showed: the address, whether it waits for approval, and the new account
    (None when the address already had one: its owner is told by e-mail instead)."""

    email: str
    held: bool
    person: User | None


def register_person(
    *,
    name: str,
    email: str,
    password: str,
    job_title: str,
    agency: Agency | None,
    line_manager_name: str,
    line_manager_email: str,
) -> Registration:
    """Create an account and queue its verification e-mail.

    An address outside the agency's domains is held for the L&D team to approve. An address
    that already has an account gets the same answer, so registering cannot be used to find
    out who has one; the account's owner is e-mailed instead.
    """
    if not name.strip():
        raise AccountError("Enter your full name", "name")
    address = normalise_email(email)
    check_not_generic(address)
    if agency is None or not agency.active:
        raise AccountError("Select the agency you work for", "agency_id")
    manager_address = normalise_email(line_manager_email, "line_manager_email")
    if manager_address == address:
        raise AccountError(
            "Enter your line manager’s e-mail address, not your own", "line_manager_email"
        )
    if not line_manager_name.strip():
        raise AccountError("Enter your line manager’s name", "line_manager_name")
    check_password_strength(password, context=(name, address, agency.name))
    held = not email_matches_agency(address, agency)
    owner = find_user_by_email(address)
    if owner is not None:
        hash_password(password)  # as long as creating an account takes
        record_event(owner, None, "registration attempted", "The owner was e-mailed")
        notifications.notify_registration_attempt(owner)
        return Registration(address, held, None)
    person = User(
        name=name.strip(),
        email=address,
        job_title=job_title.strip(),
        agency=agency,
        line_manager_name=line_manager_name.strip(),
        line_manager_email=manager_address,
        status=PENDING_APPROVAL if held else ACTIVE,
    )
    person.set_password(password)
    db.session.add(person)
    db.session.flush()
    record_event(person, None, "registered", f"Agency: {agency.name}")
    if person.status == PENDING_APPROVAL:
        record_event(person, None, "held", "E-mail address outside the agency's domains")
    send_verification(person)
    return Registration(address, held, person)


def send_verification(person: User) -> None:
    """Queue a fresh verification link for the person."""
    token = make_token("verify", {"id": person.id, "email": person.email})
    notifications.notify_verification_link(person, token)


def verify_email(token: str) -> tuple[User, bool]:
    """Mark the address in a verification link as confirmed; say whether this use confirmed it."""
    payload = read_token("verify", token, current_app.config["VERIFY_LINK_HOURS"] * 3600)
    person = db.session.get(User, payload.get("id"))
    if person is None or person.email != payload.get("email"):
        raise LinkError("This link is for an address that is no longer on an account.")
    if person.email_verified_at is not None:
        return person, False
    person.email_verified_at = utcnow()
    record_event(person, person, "verified")
    return person, True


def resend_verification_link(person: User, actor: User) -> None:
    """Send a person a new link to confirm their e-mail address."""
    if person.is_verified:
        raise AccountError(f"{person.name} has already confirmed their e-mail address")
    send_verification(person)
    record_event(person, actor, "verification link sent")
