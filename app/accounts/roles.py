"""Roles: granting and removing them."""
from __future__ import annotations

from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.models import (
    ADMIN,
    COORDINATOR,
    GRANTABLE_ROLES,
    ROLE_LABELS,
    Agency,
    RoleGrant,
    User,
)
from app.clock import utcnow
from app.extensions import db


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
