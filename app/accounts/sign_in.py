"""Signing in, pauses after repeated failures, signing out everywhere, changing and resetting a
password."""
from __future__ import annotations

from flask import current_app

from app.accounts import notifications, throttling
from app.accounts.errors import AccountError
from app.accounts.external_sign_in import required_provider
from app.accounts.identity_providers import Provider
from app.accounts.history import record_event
from app.accounts.models import (
    ACTIVE,
    DEACTIVATED,
    PENDING_APPROVAL,
    User,
    find_user_by_email,
    new_session_token,
)
from app.accounts.passwords import check_password_strength, password_matches
from app.accounts.tokens import LinkError, make_token, read_token
from app.clock import utcnow
from app.extensions import db


class SignInRefused(AccountError):
    pass


class UseProvider(SignInRefused):
    """A password sign-in refused because the person's agency signs in with its own service."""

    def __init__(self, provider: Provider, agency_name: str):
        super().__init__(f"{agency_name} signs in with {provider.display_name}. Use the "
                         f"‘Sign in with {provider.display_name}’ button instead of a password.")
        self.provider = provider


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
    provider = required_provider(person)
    if provider is not None:
        raise UseProvider(provider, person.agency.name)
    person.last_sign_in_at = now
    return person


def _minutes_until(moment) -> int:
    return max(1, int((moment - utcnow()).total_seconds() // 60) + 1)


def sign_in_paused_until(person: User):
    """Return when the last pause on signing in with this person's address ends, if one is on."""
    return throttling.address_paused_until(throttling.address_key(person.email), utcnow())


def unlock_account(person: User, actor: User) -> None:
    """End the pauses on signing in with a person's address after repeated failures."""
    if sign_in_paused_until(person) is None:
        raise AccountError(f"{person.name}’s account is not locked")
    throttling.clear_failures(throttling.address_key(person.email))
    record_event(person, actor, "unlocked")


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
    notifications.notify_reset_link(person, token)


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
