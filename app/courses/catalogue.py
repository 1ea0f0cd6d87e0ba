"""The course catalogue: adding, changing, retiring and deleting courses.

A course's details are checked together (code, title, length, refresher, notice, charge), with
its prerequisites (never a loop) and the course whose refresher it renews (one step only).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import delete, func, select, update

from app.accounts.models import Sector, User
from app.clock import utcnow
from app.courses.availability import booking_facts
from app.courses.models import PUBLISHED, Course, Level, Session, Theme, course_prerequisites
from app.courses.problems import CourseError, Problems, clean, saved
from app.extensions import db

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,29}$")

MAX_OFFER_HOURS = 168  # a week: an offer should not hold a place longer than that


@dataclass
class CourseDetails:
    code: str
    title: str
    description: str = ""
    learning_outcomes: str = ""
    audience_roles: str = ""
    grew_from: str = ""
    level: Level | None = None
    themes: list[Theme] = field(default_factory=list)
    audience_sectors: list[Sector] = field(default_factory=list)
    prerequisites: list[Course] = field(default_factory=list)
    duration_hours: Decimal = Decimal("0")
    is_online: bool = False
    refresher_months: int | None = None
    renews: Course | None = None  # completing this course restarts that course's refresher clock
    requires_manager_approval: bool = True
    cancellation_notice_days: int = 5
    uses_offers: bool = False
    offer_hours: int = 24
    non_attendance_charge_pence: int = 0
    evaluation_delay_months: int = 3


def create_course(details: CourseDetails, actor: User) -> Course:
    """Add a course to the programme."""
    course = Course()
    _validate_course(course, details)
    _apply_course(course, details)
    return saved(course, new=True)


def update_course(course: Course, details: CourseDetails, actor: User) -> Course:
    """Change a course's details, level, themes, audience and prerequisites."""
    _validate_course(course, details)
    _apply_course(course, details)
    return saved(course)


def _validate_course(course: Course, details: CourseDetails) -> None:
    problems = Problems()
    code = clean(details.code)
    if not code:
        problems.add("code", "Enter a short code for the course, for example L3")
    elif not CODE_PATTERN.match(code):
        problems.add("code", "The code can only use letters, numbers and hyphens (up to 30)")
    elif db.session.scalar(select(Course.id).where(func.lower(Course.code) == code.lower(),
                                                   Course.id != (course.id or 0))):
        problems.add("code", f"Another course already uses the code {code}")
    title = clean(details.title)
    if not title:
        problems.add("title", "Enter the course’s title")
    elif len(title) > 200:
        problems.add("title", "The title must be 200 characters or fewer")
    hours = details.duration_hours
    if hours is None or hours <= 0:
        problems.add("duration_hours", "Enter the course’s length in hours, more than 0")
    elif hours > 200:
        problems.add("duration_hours", "The length must be 200 hours or fewer")
    elif hours != hours.quantize(Decimal("0.01")):
        problems.add("duration_hours", "Give the length to at most two decimal places, for example 6.5")
    if details.refresher_months is not None and not 1 <= details.refresher_months <= 120:
        problems.add("refresher_months", "The refresher interval must be between 1 and 120 months")
    if details.uses_offers and not 1 <= details.offer_hours <= MAX_OFFER_HOURS:
        problems.add("offer_hours", f"The offer must last between 1 and {MAX_OFFER_HOURS} hours")
    if not 0 <= details.cancellation_notice_days <= 60:
        problems.add("cancellation_notice_days", "The notice must be between 0 and 60 working days")
    if not 0 <= details.non_attendance_charge_pence <= 100_000:
        problems.add("non_attendance_charge", "The charge must be between £0 and £1,000")
    if not 1 <= details.evaluation_delay_months <= 12:
        problems.add("evaluation_delay_months", "The delay must be between 1 and 12 months")
    loop = _prerequisite_loop(course, details.prerequisites)
    if loop:
        problems.add("prerequisites", loop)
    renewal = _renewal_problem(course, details.renews)
    if renewal:
        problems.add("renews", renewal)
    problems.raise_any()


def _renewal_problem(course: Course, renews: Course | None) -> str | None:
    """Why `course` cannot renew `renews`'s refresher, or None. Renewal is one step: a refresher
    course renews a main course, never a course that itself renews another."""
    if renews is None:
        return None
    if course.id is not None and renews.id == course.id:
        return "A course cannot renew its own refresher: leave it as ‘No other course’"
    if renews.renews_course_id is not None:
        main = renews.renews
        return f"{renews.title} renews {main.title if main else 'another course'} itself: choose that course instead"
    if not renews.refresher_months:
        return f"{renews.title} has no refresher interval, so there is no refresher to renew"
    if course.id is not None:
        renewed_by = db.session.scalars(
            select(Course.title).where(Course.renews_course_id == course.id).order_by(Course.title)
        ).all()
        if renewed_by:
            return (f"{', '.join(renewed_by)} already renew{'s' if len(renewed_by) == 1 else ''} this course’s "
                    "refresher, so this course cannot renew another")
    return None


def _prerequisite_loop(course: Course, prerequisites: list[Course]) -> str | None:
    """Explain the loop `prerequisites` would make for `course`, or return None."""
    for prerequisite in prerequisites:
        if course.id is not None and prerequisite.id == course.id:
            return "A course cannot be its own prerequisite"
    if course.id is None:
        return None  # a new course cannot be anyone's prerequisite yet
    needs: dict[int, set[int]] = defaultdict(set)
    for course_id, prerequisite_id in db.session.execute(
        select(course_prerequisites.c.course_id, course_prerequisites.c.prerequisite_id)
    ):
        if course_id != course.id:  # this course's own list is being replaced
            needs[course_id].add(prerequisite_id)
    titles = {}
    for prerequisite in prerequisites:
        # Does `prerequisite` (directly or through others) already need `course`?
        path = _path_to(prerequisite.id, course.id, needs)
        if path:
            if not titles:
                titles = dict(db.session.execute(select(Course.id, Course.title)).all())
            chain = " needs ".join(titles.get(i, "?") for i in path)
            return (f"That would make a loop: {course.title} needs {chain}. "
                    f"Remove {prerequisite.title} from the prerequisites")
    return None


def _path_to(start: int, target: int, needs: dict[int, set[int]]) -> list[int] | None:
    """A prerequisite chain from `start` to `target`, or None (depth-first, no repeats)."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, path = stack.pop()
        if node == target:
            return path
        if node in seen:
            continue
        seen.add(node)
        for nxt in sorted(needs.get(node, ())):
            stack.append((nxt, path + [nxt]))
    return None


def _apply_course(course: Course, details: CourseDetails) -> None:
    course.code = clean(details.code)
    course.title = clean(details.title)
    course.description = clean(details.description)
    course.learning_outcomes = clean(details.learning_outcomes)
    course.audience_roles = clean(details.audience_roles)
    course.grew_from = clean(details.grew_from)
    course.level = details.level
    course.themes = list(details.themes)
    course.audience_sectors = list(details.audience_sectors)
    course.prerequisites = list(details.prerequisites)
    course.duration_hours = details.duration_hours
    course.is_online = details.is_online
    course.refresher_months = details.refresher_months
    course.renews = details.renews
    course.requires_manager_approval = details.requires_manager_approval
    course.cancellation_notice_days = details.cancellation_notice_days
    course.uses_offers = details.uses_offers
    if details.uses_offers:
        course.offer_hours = details.offer_hours
    course.non_attendance_charge_pence = details.non_attendance_charge_pence
    course.evaluation_delay_months = details.evaluation_delay_months


def retire_course(course: Course, actor: User) -> Course:
    """Take a course out of the programme, keeping its sessions and history."""
    if course.is_retired:
        raise CourseError("This course is already retired")
    upcoming = db.session.scalar(
        select(func.count()).select_from(Session).where(
            Session.course_id == course.id, Session.status == PUBLISHED, Session.starts_at > utcnow()
        )
    )
    if upcoming:
        raise CourseError(
            f"This course has {upcoming} upcoming published session{'s' if upcoming != 1 else ''}: "
            "cancel or finish them before retiring it"
        )
    course.retired_at = utcnow()
    db.session.flush()
    return course


def reinstate_course(course: Course, actor: User) -> Course:
    """Bring a retired course back into the programme."""
    course.retired_at = None
    db.session.flush()
    return course


def delete_course(course: Course, actor: User) -> None:
    """Remove a course entered by mistake: only one that has no sessions and no completions."""
    if db.session.scalar(select(func.count()).select_from(Session).where(Session.course_id == course.id)):
        raise CourseError("This course has sessions, so it cannot be deleted: retire it instead")
    if booking_facts().has_completions(course):
        raise CourseError("People have completed this course, so it cannot be deleted: retire it instead")
    db.session.execute(delete(course_prerequisites).where(
        (course_prerequisites.c.course_id == course.id) | (course_prerequisites.c.prerequisite_id == course.id)
    ))
    # A refresher course that renewed this mistaken course renews nothing now.
    db.session.execute(update(Course).where(Course.renews_course_id == course.id).values(renews_course_id=None))
    course.themes = []
    course.audience_sectors = []
    db.session.delete(course)
    db.session.flush()

