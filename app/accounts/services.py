"""The rules for accounts: registration, verification, sign-in, lock-out, reset and roles."""
from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from sqlalchemy import select

from app.accounts.models import (
    ACTIVE,
    ADMIN,
    COORDINATOR,
    DEACTIVATED,
    GRANTABLE_ROLES,
    PENDING_APPROVAL,
    ROLE_LABELS,
    AccountEvent,
    Agency,
    AgencyDomain,
    RoleGrant,
    User,
    find_user_by_email,
)
from app.accounts.tokens import LinkError, make_token, read_token
from app.clock import utcnow
from app.email import queue_email
from app.extensions import db
from app.urls import external_url

# Local parts of shared or role mailboxes: everyone books with their own account.
GENERIC_LOCAL_PARTS = {
    "admin", "administrator", "accounts", "all", "bookings", "contact", "enquiries", "enquiry",
    "everyone", "finance", "general", "hello", "help", "hr", "info", "information", "mail",
    "mailbox", "noreply", "no-reply", "office", "postmaster", "reception", "safeguarding",
    "sales", "schooloffice", "staff", "support", "team", "training", "webmaster",
}
MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(address: str, field: str = "email") -> str:
    """Return the address lower-cased and checked for form (no DNS look-up)."""
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(
            "Enter an e-mail address in the correct format, like name@example.org", field
        ) from exc
    return result.normalized.lower()


def check_not_generic(address: str) -> None:
    """Refuse shared or role mailboxes, which cannot identify one person."""
    local = address.split("@", 1)[0].lower()
    if local in GENERIC_LOCAL_PARTS or local.split("+", 1)[0] in GENERIC_LOCAL_PARTS:
        raise AccountError(
            f"‘{local}@’ looks like a shared mailbox. Use your own work e-mail address: "
            "bookings, certificates and evaluations are personal.",
            "email",
        )


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Your password must be at least {MIN_PASSWORD_LENGTH} characters long", "password"
        )


def email_matches_agency(address: str, agency: Agency) -> bool:
    """True when the agency has no domains or the address is on one of them (or a subdomain)."""
    if not agency.domains:
        return True
    domain = address.rsplit("@", 1)[1]
    return any(domain == d.domain or domain.endswith("." + d.domain) for d in agency.domains)


def register_person(
    *,
    name: str,
    email: str,
    password: str,
    job_title: str,
    agency: Agency | None,
    line_manager_name: str,
    line_manager_email: str,
) -> User:
    """Create an account and queue its verification e-mail.

    An address outside the agency's domains is held for the L&D team to approve.
    """
    if not name.strip():
        raise AccountError("Enter your full name", "name")
    address = normalise_email(email)
    check_not_generic(address)
    if agency is None or not agency.active:
        raise AccountError("Select the agency you work for", "agency_id")
    if find_user_by_email(address):
        raise AccountError(
            "An account already uses this e-mail address. Sign in, or reset your password.",
            "email",
        )
    manager_address = normalise_email(line_manager_email, "line_manager_email")
    if manager_address == address:
        raise AccountError(
            "Enter your line manager’s e-mail address, not your own", "line_manager_email"
        )
    if not line_manager_name.strip():
        raise AccountError("Enter your line manager’s name", "line_manager_name")
    check_password_strength(password)
    person = User(
        name=name.strip(),
        email=address,
        job_title=job_title.strip(),
        agency=agency,
        line_manager_name=line_manager_name.strip(),
        line_manager_email=manager_address,
        status=ACTIVE if email_matches_agency(address, agency) else PENDING_APPROVAL,
    )
    person.set_password(password)
    db.session.add(person)
    db.session.flush()
    record_event(person, None, "registered", f"Agency: {agency.name}")
    if person.status == PENDING_APPROVAL:
        record_event(person, None, "held", "E-mail address outside the agency's domains")
    send_verification(person)
    return person


def record_event(person: User, actor: User | None, action: str, detail: str = "") -> None:
    """Write one line of an account's history."""
    db.session.add(
        AccountEvent(user_id=person.id, actor_id=actor.id if actor else None, action=action,
                     detail=detail, at=utcnow())
    )


def send_verification(person: User) -> None:
    """Queue a fresh verification link for the person."""
    token = make_token("verify", {"id": person.id, "email": person.email})
    hours = current_app.config["VERIFY_LINK_HOURS"]
    queue_email(
        key=f"verify:{person.id}:{token[-16:]}",
        to=person.email,
        subject="Confirm your e-mail address",
        template="accounts/emails/verify",
        person=person,
        link=external_url("accounts.verify_email", token=token),
        hours=hours,
    )


def verify_email(token: str) -> User:
    """Mark the address in a verification link as confirmed."""
    payload = read_token("verify", token, current_app.config["VERIFY_LINK_HOURS"] * 3600)
    person = db.session.get(User, payload.get("id"))
    if person is None or person.email != payload.get("email"):
        raise LinkError("This link is for an address that is no longer on an account.")
    if person.email_verified_at is None:
        person.email_verified_at = utcnow()
        record_event(person, person, "verified")
    return person


class SignInRefused(AccountError):
    pass


def authenticate(email: str, password: str) -> User:
    """Return the person if the password is right; count failures and lock out repeated ones."""
    generic = "Enter a correct e-mail address and password"
    person = find_user_by_email(email or "")
    now = utcnow()
    if person is None:
        raise SignInRefused(generic)
    if person.locked_until and person.locked_until > now:
        raise SignInRefused(
            "Too many failed attempts. For your security, sign-in is paused for this account; "
            f"try again in {_minutes_until(person.locked_until)} minutes or reset your password."
        )
    if not person.check_password(password or ""):
        person.failed_sign_ins += 1
        if person.failed_sign_ins >= current_app.config["MAX_FAILED_SIGN_INS"]:
            person.locked_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
            person.failed_sign_ins = 0
            record_event(person, None, "locked", "Repeated failed sign-ins")
        raise SignInRefused(generic)
    if person.status == DEACTIVATED:
        raise SignInRefused("This account has been closed. Contact the L&D team if you need it.")
    if person.status == PENDING_APPROVAL:
        raise SignInRefused(
            "Your account is waiting for the L&D team to approve it, because your e-mail "
            "address is not one your agency uses. We will e-mail you when it is approved."
        )
    if person.status != ACTIVE:
        raise SignInRefused("This account cannot sign in. Contact the L&D team.")
    if not person.is_verified:
        raise SignInRefused(
            "Confirm your e-mail address first: follow the link we sent you. "
            "You can ask for a new link below."
        )
    person.failed_sign_ins = 0
    person.locked_until = None
    person.last_sign_in_at = now
    return person


def _minutes_until(moment) -> int:
    return max(1, int((moment - utcnow()).total_seconds() // 60) + 1)


def request_password_reset(email: str) -> None:
    """Queue a reset link if the address has an account (the page says the same either way)."""
    person = find_user_by_email(email or "")
    if person is None or person.status == DEACTIVATED:
        return
    token = make_token("reset", {"id": person.id, "h": (person.password_hash or "")[-12:]})
    queue_email(
        key=f"reset:{person.id}:{token[-16:]}",
        to=person.email,
        subject="Reset your password",
        template="accounts/emails/reset",
        person=person,
        link=external_url("accounts.reset_password", token=token),
        hours=current_app.config["RESET_LINK_HOURS"],
    )


def person_for_reset(token: str) -> User:
    """Return the person a reset link is for; a used link (password changed since) is refused."""
    payload = read_token("reset", token, current_app.config["RESET_LINK_HOURS"] * 3600)
    person = db.session.get(User, payload.get("id"))
    if person is None or (person.password_hash or "")[-12:] != payload.get("h"):
        raise LinkError("This link has already been used. Ask for a new one if you need it.")
    return person


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; it also confirms the e-mail address."""
    person = person_for_reset(token)
    check_password_strength(password)
    person.set_password(password)
    person.failed_sign_ins = 0
    person.locked_until = None
    if person.email_verified_at is None:
        person.email_verified_at = utcnow()
    record_event(person, person, "password reset")
    return person


def grant_role(person: User, role: str, actor: User, agency: Agency | None = None) -> RoleGrant:
    """Give a person a role; coordinators hold it for one agency."""
    if role not in GRANTABLE_ROLES:
        raise AccountError("Choose a role from the list", "role")
    if role == COORDINATOR and agency is None:
        raise AccountError("Choose the agency this person coordinates", "agency_id")
    if role != COORDINATOR:
        agency = None
    for grant in person.role_grants:
        if grant.role == role and grant.agency_id == (agency.id if agency else None):
            raise AccountError(f"{person.name} already has this role", "role")
    grant = RoleGrant(user=person, role=role, agency=agency, granted_by_id=actor.id, granted_at=utcnow())
    db.session.add(grant)
    record_event(person, actor, "role granted",
                 ROLE_LABELS[role] + (f" for {agency.name}" if agency else ""))
    return grant


def revoke_role(grant: RoleGrant, actor: User) -> None:
    """Take a role away."""
    if grant.role == ADMIN and grant.user_id == actor.id:
        raise AccountError("You cannot remove your own administrator role")
    person = grant.user
    record_event(person, actor, "role removed",
                 ROLE_LABELS[grant.role] + (f" for {grant.agency.name}" if grant.agency else ""))
    person.role_grants.remove(grant)
    db.session.delete(grant)


def agency_for_domain(address: str) -> Agency | None:
    """Suggest the agency whose e-mail domain the address is on."""
    domain = address.rsplit("@", 1)[-1].lower()
    return db.session.scalar(
        select(Agency).join(AgencyDomain).where(AgencyDomain.domain == domain)
    )
