"""Dormant accounts: unused for DORMANT_ACCOUNT_MONTHS, warned DORMANT_WARNING_DAYS before, then
closed and anonymised (erase_person) unless the person signed in or booked meanwhile.

"Used" means signed in, booked (or was booked) or registered: a person only ever sent links (an
attendee who never signs in) is used while they are booked.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app

from app.accounts.models import User
from app.extensions import db
from app.privacy import queries
from app.privacy.erasure import erase_person, erasure_blockers
from app.privacy.notifications import notify_dormant_warning


def _months() -> relativedelta:
    return relativedelta(months=current_app.config["DORMANT_ACCOUNT_MONTHS"])


def _warning() -> timedelta:
    return timedelta(days=current_app.config["DORMANT_WARNING_DAYS"])


def _due_warning(seen: datetime, warned: datetime | None, now: datetime) -> bool:
    return seen < now - _months() + _warning() and (warned is None or warned < seen)


def _due_closing(seen: datetime, warned: datetime | None, now: datetime) -> bool:
    return seen < now - _months() and warned is not None and seen <= warned <= now - _warning()


def people_to_warn(now: datetime) -> list[int]:
    """People whose account closes within the warning period, not warned since they last used it."""
    return [pid for pid, seen, warned in queries.unused_since(now - _months() + _warning())
            if _due_warning(seen, warned, now)]


def people_to_close(now: datetime) -> list[int]:
    """People unused for the whole period who were warned at least the warning period ago."""
    return [pid for pid, seen, warned in queries.unused_since(now - _months())
            if _due_closing(seen, warned, now)]


def warn_dormant(person_id: int, now: datetime) -> bool:
    """Warn one person their unused account will close; False if they have used it since."""
    person = db.session.get(User, person_id)
    if person is None or person.is_erased:
        return False
    seen = queries.last_seen(person)
    if not _due_warning(seen, person.dormant_warned_at, now):
        return False
    person.dormant_warned_at = now
    notify_dormant_warning(person, max(seen + _months(), now + _warning()))
    return True


def close_dormant(person_id: int, now: datetime) -> bool:
    """Close and anonymise one unused, warned account; False if it is used again or must wait
    (an unpaid charge, a booking to come: it is looked at again on the next run)."""
    person = db.session.get(User, person_id)
    if (person is None or person.is_erased
            or not _due_closing(queries.last_seen(person), person.dormant_warned_at, now)
            or erasure_blockers(person, now)):
        return False
    erase_person(person, actor=None, reason="account unused")
    return True
