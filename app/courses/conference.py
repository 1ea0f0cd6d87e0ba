"""A conference's programme: the plenaries and workshops the L&D team puts under a session, and
when people's workshop choices close.

Every item sits inside one of the session's parts; a workshop has its own places (no more than the
session's). A workshop people have chosen is not removed: their choices would silently vanish.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.accounts.models import User
from app.clock import london_to_utc, to_london
from app.courses.availability import booking_facts
from app.courses.models import CANCELLED, PLENARY, WORKSHOP, ProgrammeItem, Session
from app.courses.problems import CourseError, Problems, clean, saved
from app.extensions import db

KINDS = {PLENARY: "Plenary (everyone)", WORKSHOP: "Workshop (people choose one per time slot)"}


def add_programme_item(session: Session, *, kind: str, day: date | None, starts: time | None,
                       ends: time | None, title: str, leads: str = "", room: str = "",
                       capacity: int | None = None, actor: User) -> ProgrammeItem:
    """Add a plenary or a workshop to a session's programme."""
    problems = Problems()
    if session.status == CANCELLED:
        raise CourseError("This session is cancelled; its programme cannot change.")
    if kind not in KINDS:
        problems.add("kind", "Choose plenary or workshop")
    if not clean(title):
        problems.add("title", "Enter the title")
    elif len(clean(title)) > 200:
        problems.add("title", "The title must be 200 characters or fewer")
    if len(clean(leads)) > 500:
        problems.add("leads", "The speakers or leads must be 500 characters or fewer")
    if len(clean(room)) > 200:
        problems.add("room", "The room must be 200 characters or fewer")
    begins = finishes = None
    if day is None or starts is None or ends is None:
        problems.add("day", "Enter the date, start time and end time")
    elif ends <= starts:
        problems.add("ends_at", "The end time must be after the start time")
    else:
        begins = london_to_utc(datetime.combine(day, starts))
        finishes = london_to_utc(datetime.combine(day, ends))
        if not any(p.starts_at <= begins and finishes <= p.ends_at for p in session.parts):
            problems.add("day", "The item must fall within one of the session’s parts: "
                         + "; ".join(f"{to_london(p.starts_at):%-d %B %Y, %-I:%M%p} to {to_london(p.ends_at):%-I:%M%p}"
                                     for p in session.parts))
    if kind == WORKSHOP:
        if capacity is None or capacity < 1:
            problems.add("capacity", "Enter the workshop’s places (at least 1)")
        elif capacity > session.capacity:
            problems.add("capacity", f"A workshop cannot have more places than the session ({session.capacity})")
    problems.raise_any()
    item = ProgrammeItem(session=session, kind=kind, starts_at=begins, ends_at=finishes, title=clean(title),
                         leads=clean(leads), room=clean(room), capacity=capacity if kind == WORKSHOP else None)
    return saved(item, new=True)


def remove_programme_item(item: ProgrammeItem, actor: User) -> None:
    """Take an item off the programme (refused for a workshop people have chosen)."""
    if item.session.status == CANCELLED:
        raise CourseError("This session is cancelled; its programme cannot change.")
    taken = booking_facts().workshop_places_taken([item.id]).get(item.id, 0) if item.is_workshop else 0
    if taken:
        raise CourseError(f"{taken} {'person has' if taken == 1 else 'people have'} chosen “{item.title}”. "
                          "Ask them to choose another workshop first, or keep it.")
    item.session.programme.remove(item)
    db.session.delete(item)
    db.session.flush()


def set_choices_close(session: Session, moment: datetime | None, actor: User) -> None:
    """Set when people's workshop choices close (None: when the session starts)."""
    if moment is not None and session.starts_at is not None and moment >= session.starts_at:
        raise CourseError("Choices must close before the session starts", "close_day")
    session.choices_close_at = moment
    db.session.flush()


def _shift(moment: datetime | None, days: int) -> datetime | None:
    return london_to_utc((to_london(moment) + timedelta(days=days)).replace(tzinfo=None)) if moment else None


def move_programme(session: Session, days: int) -> None:
    """Move a conference's programme (and when choices close) with its session to another date, at
    the same London times of day; people's workshop choices stay with their workshops."""
    if not days:
        return
    for item in session.programme:
        item.starts_at, item.ends_at = _shift(item.starts_at, days), _shift(item.ends_at, days)
    session.choices_close_at = _shift(session.choices_close_at, days)
