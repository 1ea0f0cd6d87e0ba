"""Copying a session to new dates, as drafts with the same set-up."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from app.accounts.models import User
from app.clock import london_to_utc, to_london, utcnow
from app.courses.models import DRAFT, ProgrammeItem, Session
from app.courses.problems import CourseError, Problems
from app.courses.scheduling import PartTimes, apply_plan, parts_in_utc, plan_from_session, validate_plan
from app.extensions import db


def _shift(moment: datetime | None, days: int) -> datetime | None:
    # Shift in London wall-clock time, so 9:30 stays 9:30 across a clock change.
    return moment + timedelta(days=days) if moment else None


def _shift_utc(moment: datetime | None, days: int) -> datetime | None:
    """Shift a stored (UTC) moment by whole days of London wall-clock time."""
    return london_to_utc((to_london(moment) + timedelta(days=days)).replace(tzinfo=None)) if moment else None


def duplicate_session(session: Session, first_days: list[date], actor: User) -> list[Session]:
    """Copy a session to new dates (one copy per first day), as drafts with the same set-up (a
    conference's programme too, at the same times of day; nobody's workshop choices)."""
    if session.course.is_retired:
        raise CourseError("This course is retired: reinstate it before adding sessions")
    days = [d for d in first_days if d is not None]
    if not days:
        raise CourseError("Enter the date of the first day of at least one copy", "dates")
    if len(set(days)) != len(days):
        raise CourseError("Each copy needs a different date", "dates")
    template = plan_from_session(session)
    if not template.parts:
        raise CourseError("This session has no dates to copy")
    first = template.parts[0].starts_at.date()
    plans = []
    problems = Problems()
    for index, day in enumerate(days):
        offset = (day - first).days
        plan = plan_from_session(session)
        plan.parts = [PartTimes(_shift(p.starts_at, offset), _shift(p.ends_at, offset)) for p in template.parts]
        plan.booking_opens_at = _shift(template.booking_opens_at, offset)
        plan.booking_closes_at = _shift(template.booking_closes_at, offset)
        if plan.booking_opens_at and london_to_utc(plan.booking_opens_at) < utcnow():
            plan.booking_opens_at = None  # open at once rather than at a moment already past
        try:
            validate_plan(Session(), plan, check_past=True)
        except CourseError as error:
            for _field, message in error.problems:
                problems.add(f"dates-{index}", f"Copy on {day.strftime('%-d %B %Y')}: {message}")
        plans.append(plan)
    problems.raise_any()
    copies = []
    items = list(session.programme)  # read before building copies, which autoflush would meet half-made
    for day, plan in zip(days, plans):
        copy = Session(status=DRAFT, sequence=0, created_at=utcnow())
        apply_plan(copy, plan, parts_in_utc(plan))
        copy.course = session.course
        offset = (day - first).days
        copy.programme = [
            ProgrammeItem(kind=item.kind, starts_at=_shift_utc(item.starts_at, offset),
                          ends_at=_shift_utc(item.ends_at, offset), title=item.title, leads=item.leads,
                          room=item.room, capacity=item.capacity)
            for item in items
        ]
        copy.choices_close_at = _shift_utc(session.choices_close_at, offset)
        db.session.add(copy)
        copies.append(copy)
    db.session.flush()
    return copies

