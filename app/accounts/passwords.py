"""Passwords as the NCSC advises: long enough, not common or guessable, checked in constant time.

No composition rules (they make passwords harder to remember, not to guess); instead zxcvbn
estimates how many guesses a password needs, knowing the most common and breached passwords,
keyboard patterns, repeats, dates and words from the person's own details and this service.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from app.accounts.errors import AccountError

if TYPE_CHECKING:  # models hash passwords with this module
    from app.accounts.models import User

MIN_PASSWORD_LENGTH = 10
# zxcvbn's score 3: about 10^8 guesses or more, the level its authors advise for an account.
MIN_SCORE = 3
# zxcvbn's cost grows quickly with length; the start of a long password shows what it needs to.
_CHECKED_LENGTH = 72

_dummy_hashes: dict[str, str] = {}


def password_problem(password: str, context: list[str]) -> str | None:
    """Say in plain words why a password would be easy to guess, or return None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Your password must be at least {MIN_PASSWORD_LENGTH} characters long"
    result = zxcvbn(password[:_CHECKED_LENGTH], user_inputs=_guessable_words(context))
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"]["warning"]
    return " ".join(part for part in (
        "Your password is too easy to guess.",
        warning if warning.endswith(".") else (warning + "." if warning else ""),
        "Three random words together make a strong password that is easy to remember.",
    ) if part)


def check_password_strength(password: str, person: User | None = None, *,
                            context: tuple[str, ...] = ()) -> None:
    """Refuse a password that is short, common or guessable from the person or this service."""
    words = [current_app.config["PARTNERSHIP_NAME"], current_app.config["SERVICE_NAME"], *context]
    if person is not None:
        words += [person.name, person.email, person.agency.name if person.agency else ""]
    problem = password_problem(password, words)
    if problem:
        raise AccountError(problem, "password")


def _guessable_words(context: list[str]) -> list[str]:
    """The words an attacker would try first: each text, its words, and its words run together."""
    words: list[str] = []
    for text in context:
        parts = [part for part in re.split(r"[\W_]+", (text or "").lower()) if len(part) > 2]
        words += [(text or "").lower(), "".join(parts), *parts]
    return [word for word in dict.fromkeys(words) if word]


def hash_password(password: str) -> str:
    """Hash a password with the configured method."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Check a password against a hash, taking as long when there is no hash as when there is.

    Without an account (or without a password) the check runs against a dummy hash of the same
    method, so how long a sign-in takes does not show whether the address has an account.
    """
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not anyone's password", method=method)
    matches = check_password_hash(stored_hash or _dummy_hashes[method], password)
    return matches and bool(stored_hash)
