"""A person's details (name, job title, agency, address, line manager), changed by the person or
by the L&D team."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.accounts.addresses import check_not_generic, email_matches_agency, normalise_email
from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.models import ADMIN, AccountEvent, Agency, User, find_user_by_email
from app.accounts.registration import send_verification
from app.clock import utcnow
from app.extensions import db

# Called with (person, actor) after a person's line manager's address changed; each returns what
# it asked again of the new manager. Bookings registers here (it builds on accounts).
_manager_changed_listeners: list[Callable[[User, User], list]] = []


def on_manager_changed(listener: Callable[[User, User], list]) -> Callable[[User, User], list]:
    """Call `listener(person, actor)` whenever a person's line manager's address changes."""
    _manager_changed_listeners.append(listener)
    return listener


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
                   you: bool, required: bool = False) -> tuple[str, str]:
    """Return the line manager's name and address, checked.

    Someone without a manager (a walk-in) may stay without one, but a manager once given can
    only be replaced: courses that need a manager's agreement could not be booked otherwise.
    """
    theirs = "your" if you else "the person’s"
    if not (manager_email or "").strip():
        if person.line_manager_email or (manager_name or "").strip() or required:
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
        for listener in _manager_changed_listeners:
            reasked += listener(person, actor)
    return DetailsChange(changed, reasked)


def change_own_details(person: User, *, name: str, job_title: str, line_manager_name: str,
                       line_manager_email: str, manager_required: bool = False) -> DetailsChange:
    """Change a person's own name, job title and line manager, as they give them.

    `manager_required`: a person whose account a sign-in service made must give a line manager,
    as registering does.
    """
    values = {
        "name": _clean_line(name, 200, "name", "Enter your full name", "Your name"),
        "job_title": _clean_line(job_title, 200, "job_title", "Enter your job title",
                                 "Your job title"),
    }
    values["line_manager_name"], values["line_manager_email"] = _check_manager(
        person, person.email, line_manager_name, line_manager_email, you=True,
        required=manager_required)
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
