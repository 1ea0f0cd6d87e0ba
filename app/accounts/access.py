"""Who may use which view. Every view states it with @public, @signed_in or @requires(...)."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from app.accounts.models import ADMIN, COORDINATOR, LEARNER, REVIEWER, TRAINER  # noqa: F401
from app.extensions import login_manager

ANYONE = "anyone"


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, signed in or not."""
    view.allowed_roles = ANYONE
    return view


def requires(*roles: str) -> Callable[[Callable], Callable]:
    """Allow a view only to signed-in people holding one of `roles` (LEARNER: anyone signed in)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


signed_in = requires(LEARNER)
