"""Trainers and rooms booked twice, and trainers asked to train outside their availability.

A trainer or a room booked for two sessions at the same time is refused, naming the other session;
an administrator may book anyway, and that choice is kept in the session's history. Training on a
day the trainer does not usually work, during their unavailability, a course they are not listed
for, or outside their provider's contract is only a warning: the L&D team may know better.
Online sessions (no venue) have no room to clash.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.accounts.models import ADMIN, User
from app.clock import to_london, utcnow
from app.courses.models import WEEKDAYS, Course, Session, SessionChange, Venue
from app.courses.queries import overlapping_parts, trainer_profiles_of
from app.templating import format_date, format_time

# The SessionChange kind that records a clash booked anyway (history only: nobody booked is told).
OVERRIDE = "override"


@dataclass
class Clash:
    field: str  # the plan's field it belongs to: "trainers" or "venue"
    message: str
    # For the session's history, which outlives people: no one's name (the actor is kept by id).
    history: str


def _when(start: datetime, end: datetime) -> str:
    return f"{format_time(start)}-{format_time(end)} on {format_date(start, '%-d %B %Y')}"


def find_clashes(session: Session, parts: list[tuple[datetime, datetime]], venue: Venue | None,
                 trainers: list[User]) -> list[Clash]:
    """The other sessions' parts that would have this session's trainers or room twice at once."""
    trainer_ids = [t.id for t in trainers]
    found = []
    for part in overlapping_parts(session.id, parts, venue.id if venue else None, trainer_ids):
        other = part.session
        when = _when(part.starts_at, part.ends_at)
        for trainer in trainers:
            if any(t.id == trainer.id for t in other.trainers):
                found.append(Clash("trainers", f"{trainer.name} is already training ‘{other.course.title}’ at {when}",
                                   f"a trainer was already training ‘{other.course.title}’ at {when}"))
        if venue is not None and other.venue_id == venue.id:
            message = f"{venue.name} is already booked for ‘{other.course.title}’ at {when}"
            found.append(Clash("venue", message, message))
    return found


def clashes_to_check(session: Session, parts: list[tuple[datetime, datetime]], venue: Venue | None,
                     trainers: list[User]) -> list[Clash]:
    """The clashes a change brings: all of them when the times change (or the session is new), else
    those of a new room or newly added trainers, so an earlier clash booked anyway is not asked again."""
    current = sorted((p.starts_at, p.ends_at) for p in session.parts)
    if session.id is None or current != list(parts):
        return find_clashes(session, parts, venue, trainers)
    new_venue = venue if venue is not None and venue.id != session.venue_id else None
    known = {t.id for t in session.trainers}
    new_trainers = [t for t in trainers if t.id not in known]
    return find_clashes(session, parts, new_venue, new_trainers)


def may_book_anyway(actor: User | None) -> bool:
    return actor is not None and actor.has_role(ADMIN)


def record_booked_anyway(session: Session, clashes: list[Clash], actor: User) -> None:
    """Keep in the session's history that an administrator booked it despite these clashes."""
    now = utcnow()
    detail = "Booked anyway by an administrator: " + "; ".join(c.history for c in clashes)
    # Already "told": this is for the L&D team's history, not a change the people booked hear about.
    session.changes.append(SessionChange(kind=OVERRIDE, detail=detail[:4000], sequence=session.sequence,
                                         actor_id=actor.id, at=now, notified_at=now, removed_parts="[]"))


def _days(parts: list[tuple[datetime, datetime]]) -> list[date]:
    return sorted({to_london(start).date() for start, _ in parts})


def availability_warnings(course: Course | None, parts: list[tuple[datetime, datetime]],
                          trainers: list[User]) -> list[str]:
    """What the L&D team should know about the trainers' availability (never a refusal)."""
    profiles = trainer_profiles_of([t.id for t in trainers])
    warnings = []
    days = _days(parts)
    for trainer in trainers:
        profile = profiles.get(trainer.id)
        if profile is None:
            continue
        off_days = [d for d in days if str(d.weekday()) not in profile.working_days]
        if off_days:
            warnings.append(f"{trainer.name} does not usually train on "
                            + ", ".join(f"{WEEKDAYS[d.weekday()]}s ({format_date(d, '%-d %B')})" for d in off_days))
        for away in profile.unavailability:
            if any(away.starts_on <= d <= away.ends_on for d in days):
                why = f" ({away.reason})" if away.reason else ""
                warnings.append(f"{trainer.name} is unavailable from {format_date(away.starts_on)} "
                                f"to {format_date(away.ends_on)}{why}")
        if course is not None and profile.courses and all(c.id != course.id for c in profile.courses):
            warnings.append(f"{trainer.name} is not listed as delivering {course.title}")
        provider = profile.provider
        if provider is not None and days:
            if provider.contract_ends_on and days[-1] > provider.contract_ends_on:
                warnings.append(f"{provider.name}’s contract ends on {format_date(provider.contract_ends_on)}, "
                                f"before {trainer.name} would train")
            elif provider.contract_starts_on and days[0] < provider.contract_starts_on:
                warnings.append(f"{provider.name}’s contract starts on {format_date(provider.contract_starts_on)}, "
                                f"after {trainer.name} would train")
    return warnings
