"""The rules for accounts: registration, verification, sign-in, lock-out, reset and roles."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts import throttling
from app.accounts.models import (
    ACTIVE,
    ADMIN,
    COORDINATOR,
    DEACTIVATED,
    GRANTABLE_ROLES,
    PENDING_APPROVAL,
    REFUSED,
    ROLE_LABELS,
    STATUS_LABELS,
    AccountEvent,
    Agency,
    AgencyDomain,
    RoleGrant,
    Sector,
    User,
    find_user_by_email,
    new_session_token,
)
from app.accounts.passwords import hash_password, password_matches, password_problem
from app.accounts.tokens import LinkError, make_token, read_token
from app.clock import utcnow
from app.email import queue_email
from app.errors import DomainError
from app.extensions import db
from app.urls import external_url

# Local parts of shared or role mailboxes: everyone books with their own account.
GENERIC_LOCAL_PARTS = {
    "admin", "administrator", "accounts", "all", "bookings", "contact", "enquiries", "enquiry",
    "everyone", "finance", "general", "hello", "help", "hr", "info", "information", "mail",
    "mailbox", "noreply", "no-reply", "office", "postmaster", "reception", "safeguarding",
    "sales", "schooloffice", "staff", "support", "team", "training", "webmaster",
}


class AccountError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""


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


def check_password_strength(password: str, person: User | None = None, *,
                            context: tuple[str, ...] = ()) -> None:
    """Refuse a password that is short, common or guessable from the person or this service."""
    words = [current_app.config["PARTNERSHIP_NAME"], current_app.config["SERVICE_NAME"], *context]
    if person is not None:
        words += [person.name, person.email, person.agency.name if person.agency else ""]
    problem = password_problem(password, words)
    if problem:
        raise AccountError(problem, "password")


def email_matches_agency(address: str, agency: Agency) -> bool:
    """True when the agency has no domains or the address is on one of them (or a subdomain)."""
    if not agency.domains:
        return True
    domain = address.rsplit("@", 1)[1]
    return any(domain == d.domain or domain.endswith("." + d.domain) for d in agency.domains)


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
        _tell_owner_of_registration_attempt(owner)
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


def _tell_owner_of_registration_attempt(owner: User) -> None:
    # One message an hour at most, so registering again and again cannot flood their mailbox.
    queue_email(
        key=f"registration-attempt:{owner.id}:{utcnow():%Y-%m-%d-%H}",
        to=owner.email,
        subject="Someone tried to register with your e-mail address",
        template="accounts/emails/registration_attempt",
        person=owner,
        sign_in_link=external_url("accounts.sign_in"),
        reset_link=external_url("accounts.forgotten_password"),
    )


def record_event(person: User, actor: User | None, action: str, detail: str = "") -> AccountEvent:
    """Write one line of an account's history."""
    event = AccountEvent(user_id=person.id, actor_id=actor.id if actor else None, action=action,
                         detail=detail, at=utcnow())
    db.session.add(event)
    return event


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


class SignInRefused(AccountError):
    pass


WRONG_DETAILS = "Enter a correct e-mail address and password"


def authenticate(email: str, password: str, *, client: str) -> User:
    """Return the person if the password is right; pause repeated guessing from one client.

    Every address is treated alike, with or without an account: the same pause, the same
    message and the same password check (against a dummy hash when there is no account).
    """
    now = utcnow()
    key = throttling.address_key(email or "")
    until = throttling.paused_until(key, client, now)
    if until is not None:
        raise SignInRefused(
            "Too many failed attempts to sign in from your network. For your security, signing "
            f"in here is paused; try again in {_minutes_until(until)} minutes, or reset your "
            "password."
        )
    person = find_user_by_email(email or "")
    if not password_matches(person.password_hash if person else None, password or ""):
        throttling.record_failure(key, client, now)
        raise SignInRefused(WRONG_DETAILS)
    throttling.clear_failures(key, client)
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
    person.last_sign_in_at = now
    return person


def _minutes_until(moment) -> int:
    return max(1, int((moment - utcnow()).total_seconds() // 60) + 1)


def sign_in_paused_until(person: User):
    """Return when the last pause on signing in with this person's address ends, if one is on."""
    return throttling.address_paused_until(throttling.address_key(person.email), utcnow())


def end_sessions(person: User) -> None:
    """Sign the person out everywhere: every session and remember-me cookie stops working."""
    person.session_token = new_session_token()


def change_password(person: User, current_password: str, new_password: str) -> User:
    """Change a signed-in person's password; every other session of theirs ends."""
    if not person.check_password(current_password or ""):
        raise AccountError("Your current password is not right", "current_password")
    if new_password == current_password:
        raise AccountError("Choose a password different from your current one", "password")
    check_password_strength(new_password, person)
    person.set_password(new_password)
    end_sessions(person)
    record_event(person, person, "password changed")
    return person


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
    check_password_strength(password, person)
    person.set_password(password)
    end_sessions(person)
    throttling.clear_failures(throttling.address_key(person.email))
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
    db.session.flush()
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


# --- Sectors and agencies, kept as data by the L&D team ------------------------------------

# Free webmail: anyone can have an address there, so it can never show that someone works for
# an agency, and accepting it as an agency domain would let anyone skip the approval check.
PUBLIC_MAIL_DOMAINS = {
    "aol.com", "btinternet.com", "gmail.com", "googlemail.com", "hotmail.co.uk", "hotmail.com",
    "icloud.com", "live.co.uk", "live.com", "me.com", "msn.com", "outlook.com", "protonmail.com",
    "proton.me", "sky.com", "talktalk.net", "virginmedia.com", "yahoo.co.uk", "yahoo.com",
}
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def parse_domains(text: str) -> list[str]:
    """Read e-mail domains from a comma-, space- or line-separated list; refuse malformed ones."""
    domains: list[str] = []
    for raw in re.split(r"[\s,;]+", text or ""):
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        labels = domain.split(".")
        if (len(domain) > 253 or len(labels) < 2 or not labels[-1][:1].isalpha()
                or not all(_DOMAIN_LABEL.match(label) for label in labels)):
            raise AccountError(
                f"‘{raw.strip()}’ is not an e-mail domain. Enter domains like nhs.net or "
                "northbridge.gov.uk, separated by commas or on separate lines.",
                "domains",
            )
        if domain in PUBLIC_MAIL_DOMAINS:
            raise AccountError(
                f"{domain} is a public e-mail service that anyone can use, so it cannot "
                "identify an agency’s staff.",
                "domains",
            )
        if domain not in domains:
            domains.append(domain)
    return domains


def _clean_name(name: str, what: str, max_length: int) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise AccountError(f"Enter the {what}’s name", "name")
    if len(cleaned) > max_length:
        raise AccountError(f"The {what}’s name must be {max_length} characters or fewer", "name")
    return cleaned


def _references(table_name: str, row_id: int, ignore: tuple[str, ...] = ()) -> int:
    """Count rows in any table that point at a row, so a used row is never deleted."""
    total = 0
    for table in db.metadata.sorted_tables:
        if table.name in ignore:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name:
                total += db.session.scalar(
                    select(func.count()).select_from(table).where(fk.parent == row_id)
                )
    return total


def _check_sector_name(name: str, sector: Sector | None) -> str:
    cleaned = _clean_name(name, "sector", 120)
    clash = db.session.scalar(
        select(Sector).where(func.lower(Sector.name) == cleaned.lower())
    )
    if clash is not None and clash is not sector:
        raise AccountError(f"There is already a sector called ‘{clash.name}’", "name")
    return cleaned


def create_sector(name: str, actor: User) -> Sector:
    """Add a sector at the end of the list."""
    cleaned = _check_sector_name(name, None)
    last = db.session.scalar(select(func.max(Sector.position))) or 0
    sector = Sector(name=cleaned, position=last + 1, active=True)
    db.session.add(sector)
    db.session.flush()
    return sector


def update_sector(sector: Sector, name: str, active: bool, actor: User) -> Sector:
    """Rename a sector or change whether new agencies can be put in it."""
    sector.name = _check_sector_name(name, sector)
    sector.active = active
    db.session.flush()
    return sector


def delete_sector(sector: Sector, actor: User) -> None:
    """Remove a sector nothing refers to; one in use must be deactivated instead."""
    if _references("sectors", sector.id):
        raise AccountError(
            f"‘{sector.name}’ has agencies or other records in it, so it cannot be deleted. "
            "Deactivate it instead."
        )
    db.session.delete(sector)
    db.session.flush()


def _check_agency(agency: Agency | None, name: str, sector: Sector | None,
                  domains_text: str) -> tuple[str, list[str]]:
    cleaned = _clean_name(name, "agency", 200)
    clash = db.session.scalar(select(Agency).where(func.lower(Agency.name) == cleaned.lower()))
    if clash is not None and clash is not agency:
        raise AccountError(f"There is already an agency called ‘{clash.name}’", "name")
    if sector is None:
        raise AccountError("Choose the agency’s sector", "sector_id")
    if not sector.active and (agency is None or agency.sector_id != sector.id):
        raise AccountError(f"The sector ‘{sector.name}’ is no longer in use. Choose another.",
                           "sector_id")
    domains = parse_domains(domains_text)
    if domains:
        taken = db.session.execute(
            select(AgencyDomain.domain, Agency.name)
            .join(Agency, AgencyDomain.agency_id == Agency.id)
            .where(AgencyDomain.domain.in_(domains))
            .where(AgencyDomain.agency_id != (agency.id if agency else -1))
            .order_by(AgencyDomain.domain)
        ).first()
        if taken is not None:
            raise AccountError(
                f"{taken.domain} already belongs to {taken.name}. A domain can belong to "
                "one agency only.",
                "domains",
            )
    return cleaned, domains


def _set_domains(agency: Agency, domains: list[str]) -> None:
    # Keep rows whose domain stays: deleting and re-adding one would clash on its unique index.
    for row in list(agency.domains):
        if row.domain not in domains:
            agency.domains.remove(row)
    kept = {row.domain for row in agency.domains}
    for domain in domains:
        if domain not in kept:
            agency.domains.append(AgencyDomain(domain=domain))


def create_agency(name: str, sector: Sector | None, domains: str, actor: User) -> Agency:
    """Add an agency people can register with."""
    cleaned, domain_list = _check_agency(None, name, sector, domains)
    agency = Agency(name=cleaned, sector=sector, active=True)
    _set_domains(agency, domain_list)
    db.session.add(agency)
    db.session.flush()
    return agency


def update_agency(agency: Agency, name: str, sector: Sector | None, domains: str,
                  active: bool, actor: User) -> Agency:
    """Change an agency's name, sector, e-mail domains or whether people can choose it."""
    cleaned, domain_list = _check_agency(agency, name, sector, domains)
    agency.name = cleaned
    agency.sector = sector
    agency.active = active
    _set_domains(agency, domain_list)
    db.session.flush()
    return agency


def delete_agency(agency: Agency, actor: User) -> None:
    """Remove an agency nobody belongs to; one in use must be deactivated instead."""
    people = db.session.scalar(
        select(func.count()).select_from(User).where(User.agency_id == agency.id)
    )
    if people:
        raise AccountError(
            f"{people} {'person belongs' if people == 1 else 'people belong'} to "
            f"‘{agency.name}’, so it cannot be deleted. Deactivate it instead: their records "
            "keep it, and nobody new can choose it."
        )
    if _references("agencies", agency.id, ignore=("agency_domains",)):
        raise AccountError(
            f"‘{agency.name}’ is used by bookings, roles or other records, so it cannot be "
            "deleted. Deactivate it instead."
        )
    db.session.delete(agency)
    db.session.flush()


# --- People: the L&D team's actions on accounts ---------------------------------------------

def people_query(text: str = "", agency_id: int | None = None, status: str = "",
                 role: str = "") -> Select:
    """Build the search for people by name, e-mail or agency, with what each row shows loaded."""
    query = (
        select(User)
        .outerjoin(Agency, User.agency_id == Agency.id)
        .options(joinedload(User.agency).joinedload(Agency.sector),
                 selectinload(User.role_grants))
        .order_by(func.lower(User.name), User.id)
    )
    words = (text or "").split()
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(
            User.name.ilike(pattern, escape="\\"),
            User.email.ilike(pattern, escape="\\"),
            Agency.name.ilike(pattern, escape="\\"),
        ))
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    if status in STATUS_LABELS:
        query = query.where(User.status == status)
    if role in GRANTABLE_ROLES:
        query = query.where(User.role_grants.any(RoleGrant.role == role))
    return query


def approve_account(person: User, actor: User) -> None:
    """Let a held account sign in, and tell the person by e-mail."""
    if person.status not in (PENDING_APPROVAL, REFUSED):
        raise AccountError(f"{person.name}’s account is not waiting for approval")
    person.status = ACTIVE
    event = record_event(person, actor, "approved")
    db.session.flush()
    queue_email(
        key=f"account-approved:{event.id}",
        to=person.email,
        subject="Your account is approved",
        template="accounts/emails/approved",
        person=person,
        sign_in_link=external_url("accounts.sign_in"),
        resend_link=external_url("accounts.resend_verification"),
    )


def refuse_account(person: User, actor: User, reason: str = "") -> None:
    """Refuse a held account, and tell the person why by e-mail."""
    if person.status != PENDING_APPROVAL:
        raise AccountError(f"{person.name}’s account is not waiting for approval")
    reason = reason.strip()
    person.status = REFUSED
    event = record_event(person, actor, "refused", reason)
    db.session.flush()
    queue_email(
        key=f"account-refused:{event.id}",
        to=person.email,
        subject="Your account was not approved",
        template="accounts/emails/refused",
        person=person,
        reason=reason,
        contact=current_app.config["L_AND_D_EMAIL"],
    )


# --- A person's details: changed by the person, or by the L&D team --------------------------

@dataclass(frozen=True)
class DetailsChange:
    """What saving a person's details did: the fields that changed (DETAIL_LABELS keys), and
    the bookings whose manager's agreement was asked again of a new line manager."""

    fields: list[str]
    reasked: list = field(default_factory=list)


def _clean_line(value: str | None, max_length: int, field_name: str, missing: str,
                what: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned and missing:
        raise AccountError(missing, field_name)
    if len(cleaned) > max_length:
        raise AccountError(f"{what} must be {max_length} characters or fewer", field_name)
    return cleaned


def _check_manager(person: User, address: str, manager_name: str, manager_email: str,
                   you: bool) -> tuple[str, str]:
    """Return the line manager's name and address, checked.

    Someone without a manager (a walk-in) may stay without one, but a manager once given can
    only be replaced: courses that need a manager's agreement could not be booked otherwise.
    """
    theirs = "your" if you else "the person’s"
    if not (manager_email or "").strip():
        if person.line_manager_email or (manager_name or "").strip():
            raise AccountError(f"Enter {theirs} line manager’s e-mail address",
                               "line_manager_email")
        return "", ""
    manager_address = normalise_email(manager_email, "line_manager_email")
    if manager_address == address:
        raise AccountError(
            f"Enter {theirs} line manager’s e-mail address, not {'your' if you else 'their'} own",
            "line_manager_email",
        )
    name = _clean_line(manager_name, 200, "line_manager_name",
                       f"Enter {theirs} line manager’s name", "The line manager’s name")
    return name, manager_address


def _apply_details(person: User, actor: User, values: dict[str, object]) -> DetailsChange:
    """Set the changed values, one history row each, and re-ask pending approvals if the
    manager's address changed."""
    from app.bookings.line_manager import reassign_pending_approvals  # bookings build on accounts

    changed = []
    for name, value in values.items():
        before = getattr(person, name)
        if before == value:
            continue
        if name == "agency":
            shown_before = before.name if before else ""
            shown_after = value.name
        else:
            shown_before, shown_after = before or "", value
        setattr(person, name, value)
        db.session.add(AccountEvent(
            user_id=person.id, actor_id=actor.id, action="details changed", field=name,
            from_value=shown_before, to_value=shown_after, at=utcnow(),
        ))
        changed.append(name)
    reasked = []
    if "line_manager_email" in changed:
        db.session.flush()
        reasked = reassign_pending_approvals(person, actor)
    return DetailsChange(changed, reasked)


def detail_changes(person: User) -> list[AccountEvent]:
    """The changes to a person's details, newest first, for them to see."""
    return list(db.session.scalars(
        select(AccountEvent)
        .where(AccountEvent.user_id == person.id, AccountEvent.field.is_not(None))
        .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
    ))


def change_own_details(person: User, *, name: str, job_title: str, line_manager_name: str,
                       line_manager_email: str) -> DetailsChange:
    """Change a person's own name, job title and line manager, as they give them."""
    values = {
        "name": _clean_line(name, 200, "name", "Enter your full name", "Your name"),
        "job_title": _clean_line(job_title, 200, "job_title", "Enter your job title",
                                 "Your job title"),
    }
    values["line_manager_name"], values["line_manager_email"] = _check_manager(
        person, person.email, line_manager_name, line_manager_email, you=True)
    return _apply_details(person, person, values)


def change_person_details(person: User, actor: User, *, name: str, email: str, job_title: str,
                          agency: Agency | None, line_manager_name: str, line_manager_email: str,
                          reason: str = "") -> DetailsChange:
    """Change any of a person's details for the L&D team.

    A new address must be confirmed again. Moving a person (a new address or agency) to an
    address outside the agency's e-mail domains is what registration holds for approval: here
    the administrator approves it by giving the reason they are sure, which the history keeps.
    """
    if not actor.has_role(ADMIN):
        raise AccountError("Only the L&D team can change this person’s details")
    values: dict[str, object] = {
        "name": _clean_line(name, 200, "name", "Enter the person’s full name",
                            "The person’s name"),
    }
    address = normalise_email(email or "")
    if address != person.email:
        check_not_generic(address)
        owner = find_user_by_email(address)
        if owner is not None and owner.id != person.id:
            raise AccountError("Another account already uses this e-mail address", "email")
    values["email"] = address
    values["job_title"] = _clean_line(job_title, 200, "job_title", "", "The job title")
    if agency is None:
        raise AccountError("Choose the person’s agency", "agency_id")
    if not agency.active and agency.id != person.agency_id:
        raise AccountError(f"‘{agency.name}’ is no longer active. Choose another agency.",
                           "agency_id")
    values["agency"] = agency
    values["line_manager_name"], values["line_manager_email"] = _check_manager(
        person, address, line_manager_name, line_manager_email, you=False)
    moved = address != person.email or agency.id != person.agency_id
    reason = " ".join((reason or "").split())
    if moved and not email_matches_agency(address, agency):
        if not reason:
            raise AccountError(
                f"{address} is not on {agency.name}’s e-mail domains "
                f"({', '.join(agency.domain_names)}), so registering with it would wait for "
                "approval. Check that the person works there, then give the reason you are sure.",
                "reason",
            )
        if len(reason) > 1000:
            raise AccountError("The reason must be 1000 characters or fewer", "reason")
    address_changed = address != person.email
    change = _apply_details(person, actor, values)
    if moved and not email_matches_agency(address, agency):
        record_event(person, actor, "approved outside the agency’s domains", reason)
    if address_changed:
        person.email_verified_at = None
        db.session.flush()
        send_verification(person)
    return change


def deactivate_account(person: User, actor: User) -> None:
    """Close an account: the person can no longer sign in; their records stay."""
    if person.id == actor.id:
        raise AccountError("You cannot deactivate your own account")
    if person.status != ACTIVE:
        raise AccountError(
            f"Only an active account can be deactivated; {person.name}’s is "
            f"{STATUS_LABELS.get(person.status, person.status).lower()}"
        )
    person.status = DEACTIVATED
    record_event(person, actor, "deactivated")


def reactivate_account(person: User, actor: User) -> None:
    """Reopen a deactivated account."""
    if person.status != DEACTIVATED:
        raise AccountError(f"{person.name}’s account is not deactivated")
    person.status = ACTIVE
    record_event(person, actor, "reactivated")


def resend_verification_link(person: User, actor: User) -> None:
    """Send a person a new link to confirm their e-mail address."""
    if person.is_verified:
        raise AccountError(f"{person.name} has already confirmed their e-mail address")
    send_verification(person)
    record_event(person, actor, "verification link sent")


def unlock_account(person: User, actor: User) -> None:
    """End the pauses on signing in with a person's address after repeated failures."""
    if sign_in_paused_until(person) is None:
        raise AccountError(f"{person.name}’s account is not locked")
    throttling.clear_failures(throttling.address_key(person.email))
    record_event(person, actor, "unlocked")
