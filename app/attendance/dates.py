"""A session's days in UK time, which registers, charges and no-shows count by."""
from __future__ import annotations

from datetime import date

from app.clock import to_london
from app.courses.models import Session


def session_days(session: Session) -> list[date]:
    """Return the UK dates of a session's parts, in order."""
    if session.parts:
        return sorted({to_london(p.starts_at).date() for p in session.parts})
    return [to_london(session.starts_at).date()] if session.starts_at else []


def first_day(session: Session) -> date | None:
    if session.parts:
        return to_london(min(p.starts_at for p in session.parts)).date()
    return to_london(session.starts_at).date() if session.starts_at else None


def last_day(session: Session) -> date | None:
    if session.parts:
        return to_london(max(p.ends_at for p in session.parts)).date()
    end = session.ends_at or session.starts_at
    return to_london(end).date() if end else None

