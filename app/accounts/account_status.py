"""An account's status, set by the L&D team: approve or refuse a held one, deactivate or
reactivate it."""
from __future__ import annotations

from app.accounts import notifications
from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.models import ACTIVE, DEACTIVATED, PENDING_APPROVAL, REFUSED, STATUS_LABELS, User
from app.extensions import db


def approve_account(person: User, actor: User) -> None:
    """Let a held account sign in, and tell the person by e-mail."""
    if person.status not in (PENDING_APPROVAL, REFUSED):
        raise AccountError(f"{person.name}’s account is not waiting for approval")
    person.status = ACTIVE
    event = record_event(person, actor, "approved")
    db.session.flush()
    notifications.notify_account_approved(person, event.id)


def refuse_account(person: User, actor: User, reason: str = "") -> None:
    """Refuse a held account, and tell the person why by e-mail."""
    if person.status != PENDING_APPROVAL:
        raise AccountError(f"{person.name}’s account is not waiting for approval")
    reason = reason.strip()
    person.status = REFUSED
    event = record_event(person, actor, "refused", reason)
    db.session.flush()
    notifications.notify_account_refused(person, event.id, reason)


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
