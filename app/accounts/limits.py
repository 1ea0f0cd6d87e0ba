"""Limits on how often one client may use the pages that send mail or check who exists.

They stop a script, not a person: the sign-in pauses after failed passwords are the rule for
guessing (app.accounts.throttling). Rates come from settings, so tests and deployments can tune
them; RATELIMIT_ENABLED turns them off.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import limiter


def limited(setting: str, key_func: Callable[[], str] | None = None) -> Callable:
    """Limit a view's POSTs to the rate in the named setting, per client unless `key_func` says."""
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"], key_func=key_func)


def per_person() -> str:
    """Key a limit on the signed-in person rather than the network they share with colleagues."""
    if current_user.is_authenticated:
        return f"person:{current_user.id}"
    return get_remote_address()
