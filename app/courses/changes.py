"""Changes people booked are told about: new times, a new venue, a cancelled session.

Changing a published session's times or venue raises its calendar SEQUENCE and records a
SessionChange (with the parts taken away), from which the bookings domain tells the people booked.
"""
from __future__ import annotations

import json
from datetime import datetime

from app.accounts.models import User
from app.calendar import part_uid
from app.clock import to_london, utcnow
from app.courses.conference import move_programme
from app.courses.models import CANCELLED, PUBLISHED, Session, SessionChange, Venue
from app.courses.problems import CourseError, clean
from app.courses.scheduling import (
    PartTimes,
    SessionPlan,
    apply_plan,
    keep_booked_anyway,
    parts_in_utc,
    plan_from_session,
    validate_plan,
)
from app.extensions import db
from app.templating import format_datetime, format_time


def update_session(session: Session, plan: SessionPlan, actor: User) -> Session:
    """Change a session; a published one records time and venue changes for the people booked."""
    if session.status == CANCELLED:
        raise CourseError("This session is cancelled and cannot be changed")
    parts = validate_plan(session, plan, check_past=_times_differ(session, parts_in_utc(plan)))
    old_times = _times_text(session)
    old_place = _place_text(session)
    time_changed = _times_differ(session, parts)
    place_changed = (session.venue_id != (plan.venue.id if plan.venue else None)
                     or session.online_url != clean(plan.online_url))
    removed = _parts_to_remove(session, parts)
    keep_booked_anyway(session, plan, parts)
    first_day = to_london(min(p.starts_at for p in session.parts)).date() if session.parts else None
    apply_plan(session, plan, parts)
    if first_day and session.parts and session.programme:
        # A conference moved to another date takes its programme with it.
        move_programme(session, (to_london(min(p.starts_at for p in session.parts)).date() - first_day).days)
    if session.status == PUBLISHED and (time_changed or place_changed):
        session.sequence += 1
        if time_changed:
            _record_change(session, "time", f"Was {old_times}; now {_times_text(session)}", actor,
                           removed_parts=removed)
        if place_changed:
            _record_change(session, "venue", f"Was {old_place}; now {_place_text(session)}", actor)
    db.session.flush()
    return session


def change_session_time(session: Session, parts: list[PartTimes], actor: User) -> Session:
    """Move a session to new dates or times, keeping everything else."""
    plan = plan_from_session(session)
    plan.parts = parts
    return update_session(session, plan, actor)


def change_session_venue(session: Session, venue: Venue | None, actor: User, online_url: str = "") -> Session:
    """Move a session to another venue (or online)."""
    plan = plan_from_session(session)
    plan.venue = venue
    plan.online_url = online_url
    return update_session(session, plan, actor)


def _times_differ(session: Session, parts: list[tuple[datetime, datetime]]) -> bool:
    current = sorted((p.starts_at, p.ends_at) for p in session.parts)
    return current != list(parts)


def _times_text(session: Session) -> str:
    return "; ".join(f"{format_datetime(p.starts_at)} to {format_time(p.ends_at)}"
                     for p in sorted(session.parts, key=lambda p: p.starts_at)) or "no dates"


def _place_text(session: Session) -> str:
    if session.venue is not None:
        return session.venue.name + (" and online" if session.online_url else "")
    return "online" if session.online_url else "no venue"


def _record_change(session: Session, kind: str, detail: str, actor: User | None,
                   removed_parts: list[dict] | None = None) -> None:
    session.changes.append(SessionChange(
        kind=kind, detail=detail, sequence=session.sequence, actor_id=actor.id if actor else None, at=utcnow(),
        removed_parts=json.dumps(removed_parts or []),
    ))


def _parts_to_remove(session: Session, parts: list[tuple[datetime, datetime]]) -> list[dict]:
    """The parts _apply_plan will take away (the last ones in date order), for their cancellations."""
    existing = sorted(session.parts, key=lambda p: (p.starts_at, p.id or 0))
    return [{"uid": part_uid(session.id, part.id), "starts_at": part.starts_at.isoformat(),
             "ends_at": part.ends_at.isoformat()} for part in existing[len(parts):] if part.id is not None]


def cancel_session(session: Session, reason: str, actor: User) -> Session:
    """Cancel a session, keeping it (and its bookings) with the reason; people booked are told."""
    reason = clean(reason)
    if session.status == CANCELLED:
        raise CourseError("This session is already cancelled")
    if not reason:
        raise CourseError("Enter the reason for cancelling, which people booked will see", "reason")
    if session.ends_at and session.ends_at <= utcnow():
        raise CourseError("This session has already taken place, so it cannot be cancelled")
    was_published = session.status == PUBLISHED
    session.status = CANCELLED
    session.cancelled_at = utcnow()
    session.cancellation_reason = reason
    session.updated_at = session.cancelled_at
    if was_published:
        session.sequence += 1
        _record_change(session, "cancelled", reason, actor)
    db.session.flush()
    return session

