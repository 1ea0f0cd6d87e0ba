"""Gaps: e-mail the coordinators of the agencies furthest behind their training needs, at most once a week."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ACTIVE, COORDINATOR, Agency, RoleGrant, User
from app.clock import today_london, utcnow
from app.courses.models import Course, Level
from app.extensions import db
from app.reports.errors import ReportsError
from app.reports.models import GapReminder, TrainingNeedsAnalysis
from app.reports.notifications import notify_gap


def week_of(day: date) -> str:
    """The ISO week a reminder belongs to ("2027-W09"): one reminder per gap each week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def coordinators_of(agency_ids: list[int]) -> dict[int, list[User]]:
    """Active coordinators of each agency."""
    found: dict[int, list[User]] = {a: [] for a in agency_ids}
    for grant, person in db.session.execute(
        select(RoleGrant, User).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == COORDINATOR, RoleGrant.agency_id.in_(agency_ids), User.status == ACTIVE)
        .order_by(User.name)
    ).all():
        found[grant.agency_id].append(person)
    return found


def last_reminders(tna: TrainingNeedsAnalysis, training_key: str,
                   agency_ids: list[int]) -> dict[int, GapReminder]:
    """The latest reminder sent to each agency about this gap."""
    latest: dict[int, GapReminder] = {}
    for reminder in db.session.scalars(
        select(GapReminder).where(GapReminder.tna_id == tna.id, GapReminder.training_key == training_key,
                                  GapReminder.agency_id.in_(agency_ids))
        .order_by(GapReminder.sent_at)
    ):
        latest[reminder.agency_id] = reminder
    return latest


@dataclass
class GapOutcome:
    sent: list[Agency] = field(default_factory=list)
    already: list[Agency] = field(default_factory=list)
    no_coordinator: list[Agency] = field(default_factory=list)


def email_gap(tna: TrainingNeedsAnalysis, *, course: Course | None, level: Level | None,
              agencies: list[Agency], figures: dict[int, dict], sessions: list, actor: User) -> GapOutcome:
    """E-mail the coordinators of each agency the upcoming sessions that would close a gap, once a week."""
    if (course is None) == (level is None):
        raise ReportsError("Choose the course or level the gap is about.")
    if not agencies:
        raise ReportsError("Choose at least one agency to e-mail.", "agencies")
    if not sessions:
        raise ReportsError("There are no upcoming published sessions with places to offer, so "
                           "there is nothing to send yet.")
    training_key = f"c{course.id}" if course else f"l{level.id}"
    week = week_of(today_london())
    coordinators = coordinators_of([a.id for a in agencies])
    outcome = GapOutcome()
    for agency in agencies:
        people = coordinators.get(agency.id) or []
        if not people:
            outcome.no_coordinator.append(agency)
            continue
        reminder = GapReminder(
            tna_id=tna.id, agency_id=agency.id, course_id=course.id if course else None,
            level_id=level.id if level else None, training_key=training_key, week=week,
            recipients=len(people), sessions_offered=len(sessions), sent_by_id=actor.id,
            sent_at=utcnow(),
        )
        # The unique week row is the guard: a second click, or a second administrator at the
        # same moment, finds it taken and sends nothing.
        try:
            with db.session.begin_nested():
                db.session.add(reminder)
        except IntegrityError:
            outcome.already.append(agency)
            continue
        for person in people:
            notify_gap(person, agency=agency, tna=tna, course=course, level=level,
                       figures=figures.get(agency.id) or {"needed": None, "attended": 0, "gap": None},
                       sessions=sessions,
                       key=f"reports-gap:{tna.id}:{agency.id}:{training_key}:{week}:{person.id}")
        outcome.sent.append(agency)
    db.session.flush()
    return outcome
