"""Slowing down password guessing without showing who has an account or locking anyone out.

Failures are counted per address and client (the network address a request comes from), and
per client across all addresses. Addresses are counted whether or not an account uses them, so a
pause looks the same for every address; and one client's failures never pause another's, so a
stranger cannot keep a real person (or an administrator) out of their account.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.accounts.models import SignInFailure
from app.extensions import db

# Failures are forgotten after a day, which also caps how long a pause can grow.
MEMORY = timedelta(days=1)


def address_key(address: str) -> str:
    """Return a keyed hash of an address as typed (ignoring case), so no address is stored."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"sign-in:" + address.strip().lower().encode(), hashlib.sha256).hexdigest()


def _address_pause_end(times: list[datetime]) -> datetime | None:
    """When a run of failures with one address from one client stops pausing it.

    MAX_FAILED_SIGN_INS failures pause it for LOCKOUT_MINUTES after the last; every further
    MAX_FAILED_SIGN_INS within the day double the pause.
    """
    limit = current_app.config["MAX_FAILED_SIGN_INS"]
    if len(times) < limit:
        return None
    doublings = min(len(times) // limit - 1, 10)
    pause = timedelta(minutes=current_app.config["LOCKOUT_MINUTES"]) * 2 ** doublings
    return max(times) + min(pause, MEMORY)


def paused_until(key: str, client: str, now: datetime) -> datetime | None:
    """Return when signing in with this address from this client may resume, if it is paused."""
    times = list(db.session.scalars(
        select(SignInFailure.at).where(SignInFailure.address_key == key,
                                       SignInFailure.client == client,
                                       SignInFailure.at > now - MEMORY)
    ))
    ends = [_address_pause_end(times)]
    limit = current_app.config["MAX_FAILED_SIGN_INS_PER_CLIENT"]
    window = timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
    recent = list(db.session.scalars(
        select(SignInFailure.at).where(SignInFailure.client == client,
                                       SignInFailure.at > now - window)
        .order_by(SignInFailure.at.desc()).limit(limit)
    ))
    if len(recent) >= limit:
        ends.append(recent[-1] + window)
    latest = max((end for end in ends if end is not None), default=None)
    return latest if latest is not None and latest > now else None


def record_failure(key: str, client: str, now: datetime) -> None:
    """Count one failed sign-in, and forget those older than a day."""
    db.session.execute(delete(SignInFailure).where(SignInFailure.at <= now - MEMORY))
    db.session.add(SignInFailure(address_key=key, client=client, at=now))
    db.session.flush()


def clear_failures(key: str, client: str | None = None) -> None:
    """Forget the failures with an address, from one client or from all."""
    query = delete(SignInFailure).where(SignInFailure.address_key == key)
    if client is not None:
        query = query.where(SignInFailure.client == client)
    db.session.execute(query)


def address_paused_until(key: str, now: datetime) -> datetime | None:
    """Return the latest time any client's pause on this address ends (for the L&D team)."""
    by_client: dict[str, list[datetime]] = {}
    for client, at in db.session.execute(
        select(SignInFailure.client, SignInFailure.at).where(SignInFailure.address_key == key,
                                                             SignInFailure.at > now - MEMORY)
    ):
        by_client.setdefault(client, []).append(at)
    ends = [end for end in map(_address_pause_end, by_client.values()) if end and end > now]
    return max(ends, default=None)
