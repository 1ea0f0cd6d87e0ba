"""An account's history: one line per thing that happened to it."""
from __future__ import annotations

from app.accounts.models import AccountEvent, User
from app.clock import utcnow
from app.extensions import db


def record_event(person: User, actor: User | None, action: str, detail: str = "") -> AccountEvent:
    """Write one line of an account's history."""
    event = AccountEvent(user_id=person.id, actor_id=actor.id if actor else None, action=action,
                         detail=detail, at=utcnow())
    db.session.add(event)
    return event
