"""API tokens: created by an agency's coordinator or an administrator, scoped, expiring, shown once
and kept only as a SHA-256 hash; revoked by the same people.

A token is 43 URL-safe characters (32 random bytes) after the fixed `sgt_` marker, so a leaked one
is easy to find in code and logs. Its first characters after the marker (`prefix`) are kept to tell
tokens apart on the pages; a request's token is found by its hash.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.accounts.models import ADMIN, Agency, User
from app.api.models import ApiToken
from app.clock import utcnow
from app.errors import DomainError
from app.extensions import db

MARKER = "sgt_"
PREFIX_LENGTH = 8
# What a token may do: each endpoint names its scope with app.api.auth.token_required (the writes
# are in app.api.write_views).
SCOPES = {
    "read": "Read the programme and the agency's staff's bookings, attendance, completions, "
            "certificates, charges and refreshers",
    "completions": "Record training completed elsewhere for the agency's staff, in bulk",
    "bookings": "Book places for the agency's staff, where the agency's coordinator may",
}
EXPIRY_DAYS = (30, 90, 180, 365)


class ApiTokenError(DomainError):
    """A token that cannot be created or revoked as asked."""


@dataclass
class NewToken:
    """A token just created: `secret` is the only copy, shown once and never stored."""

    token: ApiToken
    secret: str


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def may_manage(person: User, agency: Agency) -> bool:
    """Administrators manage every agency's tokens; a coordinator, their own agencies'."""
    return person.has_role(ADMIN) or agency.id in person.coordinated_agency_ids


def create_token(agency: Agency, *, name: str, scopes: list[str], days: int, actor: User) -> NewToken:
    """Create a token for an agency's system, returning it with its secret (shown once)."""
    if not may_manage(actor, agency):
        raise ApiTokenError("You cannot create tokens for this agency.")
    name = name.strip()
    problems = []
    if not name:
        problems.append(("name", "Enter a name that says which system will use the token"))
    elif len(name) > 100:
        problems.append(("name", "Name must be 100 characters or fewer"))
    if not scopes:
        problems.append(("scopes", "Select what the token may do"))
    elif any(scope not in SCOPES for scope in scopes):
        problems.append(("scopes", "Select from the listed permissions"))
    longest = current_app.config["API_TOKEN_MAX_DAYS"]
    if days not in EXPIRY_DAYS or days > longest:
        problems.append(("days", f"Select how long the token works, at most {longest} days"))
    if problems:
        raise ApiTokenError(problems[0][1], problems[0][0], problems)
    secret = MARKER + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        agency_id=agency.id, name=name, scopes=" ".join(s for s in SCOPES if s in scopes),
        prefix=secret[len(MARKER):len(MARKER) + PREFIX_LENGTH], token_hash=hash_of(secret),
        created_by_id=actor.id, created_at=now, expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def revoke_token(token: ApiToken, *, actor: User) -> None:
    """Stop a token working at once."""
    if not may_manage(actor, token.agency):
        raise ApiTokenError("You cannot revoke this agency's tokens.")
    if token.revoked_at is not None:
        raise ApiTokenError("This token was already revoked.")
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    db.session.flush()


def token_for(secret: str) -> ApiToken | None:
    """The token whose secret this is, whatever its state (None: no such token)."""
    if not secret.startswith(MARKER) or len(secret) > 100:
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_of(secret)))


def note_use(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether to record the token's last use now: at most once a minute, so busy systems do not
    turn every read into a write."""
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= timedelta(minutes=1)


def mark_used(token_id: int) -> None:
    """Record that a token was used just now (the caller commits)."""
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
