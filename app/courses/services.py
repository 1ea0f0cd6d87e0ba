"""The programme's rules: courses, levels, themes, venues and sessions.

Every service validates everything it is given before it changes anything, so a refused request
leaves nothing saved in part. Services add and flush; the view or command commits.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select, update

from app.accounts.models import Agency, Sector, User
from app.bookings.models import HOLDS_PLACE, Booking, Completion
from app.calendar import part_uid
from app.clock import london_to_utc, to_london, utcnow
from app.courses.models import (
    CANCELLED,
    DRAFT,
    PUBLISHED,
    Course,
    Level,
    Reservation,
    Session,
    SessionChange,
    SessionPart,
    Theme,
    Venue,
    course_prerequisites,
)
from app.errors import DomainError
from app.extensions import db

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,29}$")
MAX_CAPACITY = 1000
MAX_PARTS = 10


class CourseError(DomainError):
    """A programme change refused, with a message a person can read.

    `field` names the form field the first problem belongs to; `problems` lists every
    (field, message) found, so a form can show each one beside its field.
    """


class _Problems:
    """Collects every problem before anything changes."""

    def __init__(self):
        self.items: list[tuple[str | None, str]] = []

    def add(self, field: str | None, message: str) -> None:
        self.items.append((field, message))

    def raise_any(self) -> None:
        if self.items:
            field, message = self.items[0]
            raise CourseError(message, field, list(self.items))


# --- Levels, themes and venues -------------------------------------------------------------


def _clean(text: str | None) -> str:
    return (text or "").strip()


def create_level(name: str, intercollegiate_level: str, actor: User, position: int | None = None) -> Level:
    """Add one of the partnership's levels, mapped to an Intercollegiate level."""
    level = Level()
    _apply_level(level, name, intercollegiate_level, position)
    db.session.add(level)
    db.session.flush()
    return level


def update_level(level: Level, name: str, intercollegiate_level: str, actor: User,
                 position: int | None = None) -> Level:
    """Rename a level or change the Intercollegiate level it maps to."""
    _apply_level(level, name, intercollegiate_level, position)
    db.session.flush()
    return level


def _apply_level(level: Level, name: str, intercollegiate_level: str, position: int | None) -> None:
    name = _clean(name)
    problems = _Problems()
    if not name:
        problems.add("name", "Enter the level’s name")
    elif len(name) > 100:
        problems.add("name", "The name must be 100 characters or fewer")
    elif db.session.scalar(select(Level.id).where(func.lower(Level.name) == name.lower(),
                                                  Level.id != (level.id or 0))):
        problems.add("name", f"There is already a level called {name}")
    if len(_clean(intercollegiate_level)) > 100:
        problems.add("intercollegiate_level", "The Intercollegiate level must be 100 characters or fewer")
    problems.raise_any()
    level.name = name
    level.intercollegiate_level = _clean(intercollegiate_level)
    if position is None and level.position is None:
        position = (db.session.scalar(select(func.max(Level.position))) or 0) + 1
    if position is not None:
        level.position = position


def create_theme(name: str, actor: User) -> Theme:
    """Add a theme tag (CSE, domestic abuse, neglect...)."""
    theme = Theme()
    _apply_theme(theme, name)
    db.session.add(theme)
    db.session.flush()
    return theme


def rename_theme(theme: Theme, name: str, actor: User) -> Theme:
    """Rename a theme tag (courses keep it)."""
    _apply_theme(theme, name)
    db.session.flush()
    return theme


def _apply_theme(theme: Theme, name: str) -> None:
    name = _clean(name)
    if not name:
        raise CourseError("Enter the theme’s name", "name")
    if len(name) > 100:
        raise CourseError("The name must be 100 characters or fewer", "name")
    if db.session.scalar(select(Theme.id).where(func.lower(Theme.name) == name.lower(),
                                                Theme.id != (theme.id or 0))):
        raise CourseError(f"There is already a theme called {name}", "name")
    theme.name = name


def delete_theme(theme: Theme, actor: User) -> None:
    """Remove a theme tag, taking it off every course that had it."""
    for course in db.session.scalars(select(Course).where(Course.themes.any(Theme.id == theme.id))):
        course.themes.remove(theme)
    db.session.delete(theme)
    db.session.flush()


@dataclass
class VenueDetails:
    name: str
    address: str = ""
    access_information: str = ""
    active: bool = True


def create_venue(details: VenueDetails, actor: User) -> Venue:
    """Add a venue with its address and access information."""
    venue = Venue()
    _apply_venue_details(venue, details)
    db.session.add(venue)
    db.session.flush()
    return venue


def update_venue(venue: Venue, details: VenueDetails, actor: User) -> Venue:
    """Change a venue's details (sessions there show the new ones)."""
    _apply_venue_details(venue, details)
    db.session.flush()
    return venue


def _apply_venue_details(venue: Venue, details: VenueDetails) -> None:
    name = _clean(details.name)
    problems = _Problems()
    if not name:
        problems.add("name", "Enter the venue’s name")
    elif len(name) > 200:
        problems.add("name", "The name must be 200 characters or fewer")
    if not _clean(details.address):
        problems.add("address", "Enter the venue’s address")
    problems.raise_any()
    venue.name = name
    venue.address = _clean(details.address)
    venue.access_information = _clean(details.access_information)
    venue.active = details.active


# --- Courses -------------------------------------------------------------------------------


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
    non_attendance_charge_pence: int = 0
    evaluation_delay_months: int = 3


def create_course(details: CourseDetails, actor: User) -> Course:
    """Add a course to the programme."""
    course = Course()
    _validate_course(course, details)
    _apply_course(course, details)
    db.session.add(course)
    db.session.flush()
    return course


def update_course(course: Course, details: CourseDetails, actor: User) -> Course:
    """Change a course's details, level, themes, audience and prerequisites."""
    _validate_course(course, details)
    _apply_course(course, details)
    db.session.flush()
    return course


def _validate_course(course: Course, details: CourseDetails) -> None:
    problems = _Problems()
    code = _clean(details.code)
    if not code:
        problems.add("code", "Enter a short code for the course, for example L3")
    elif not CODE_PATTERN.match(code):
        problems.add("code", "The code can only use letters, numbers and hyphens (up to 30)")
    elif db.session.scalar(select(Course.id).where(func.lower(Course.code) == code.lower(),
                                                   Course.id != (course.id or 0))):
        problems.add("code", f"Another course already uses the code {code}")
    title = _clean(details.title)
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
    course.code = _clean(details.code)
    course.title = _clean(details.title)
    course.description = _clean(details.description)
    course.learning_outcomes = _clean(details.learning_outcomes)
    course.audience_roles = _clean(details.audience_roles)
    course.grew_from = _clean(details.grew_from)
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
    if db.session.scalar(select(func.count()).select_from(Completion).where(Completion.course_id == course.id)):
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


# --- Sessions ------------------------------------------------------------------------------


@dataclass
class PartTimes:
    """One part's start and end as London wall-clock times (naive)."""

    starts_at: datetime
    ends_at: datetime


@dataclass
class ReservationPlan:
    places: int
    sector: Sector | None = None
    agency: Agency | None = None


@dataclass
class SessionPlan:
    """Everything about a session an administrator sets; times are London wall-clock (naive)."""

    parts: list[PartTimes]
    capacity: int
    venue: Venue | None = None
    online_url: str = ""
    booking_opens_at: datetime | None = None
    booking_closes_at: datetime | None = None
    reservation_release_days: int = 14
    joining_instructions: str = ""
    trainers: list[User] = field(default_factory=list)
    external_trainers: str = ""
    reservations: list[ReservationPlan] = field(default_factory=list)


def places_held(session: Session) -> int:
    """Bookings holding a place on the session now."""
    if session.id is None:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(Booking).where(
            Booking.session_id == session.id, Booking.status.in_(HOLDS_PLACE)
        )
    ) or 0


def _held_by_reservation(session: Session) -> dict[int, int]:
    if session.id is None:
        return {}
    return dict(db.session.execute(
        select(Booking.reservation_id, func.count()).where(
            Booking.session_id == session.id, Booking.status.in_(HOLDS_PLACE),
            Booking.reservation_id.is_not(None),
        ).group_by(Booking.reservation_id)
    ).all())


def _reservation_key(sector: Sector | None, agency: Agency | None) -> tuple[str, int]:
    return ("agency", agency.id) if agency is not None else ("sector", sector.id if sector else 0)


def _validate_plan(session: Session, plan: SessionPlan, *, check_past: bool) -> list[tuple[datetime, datetime]]:
    """Check a plan against the session's bookings; return its parts in UTC, in order."""
    problems = _Problems()
    now = utcnow()
    parts_utc: list[tuple[datetime, datetime]] = []
    if not plan.parts:
        problems.add("parts", "Enter the date and times of at least one part")
    if len(plan.parts) > MAX_PARTS:
        problems.add("parts", f"A session can have at most {MAX_PARTS} parts")
    for index, part in enumerate(plan.parts):
        start, end = london_to_utc(part.starts_at), london_to_utc(part.ends_at)
        if end <= start:
            problems.add(f"parts-{index}-ends_at", f"Part {index + 1}: the end time must be after the start time")
        elif end - start > timedelta(hours=24):
            problems.add(f"parts-{index}-ends_at", f"Part {index + 1}: a part cannot last more than 24 hours")
        elif check_past and start <= now:
            problems.add(f"parts-{index}-date", f"Part {index + 1}: the date must be in the future")
        parts_utc.append((start, end))
    ordered = sorted(range(len(parts_utc)), key=lambda i: parts_utc[i][0])
    for before, after in zip(ordered, ordered[1:]):
        if parts_utc[after][0] < parts_utc[before][1]:
            first, second = sorted((before, after))
            problems.add(f"parts-{second}-starts_at", f"Part {second + 1} overlaps part {first + 1}")

    if plan.capacity is None or plan.capacity < 1:
        problems.add("capacity", "Enter the number of places, 1 or more")
    elif plan.capacity > MAX_CAPACITY:
        problems.add("capacity", f"The number of places must be {MAX_CAPACITY} or fewer")
    else:
        held = places_held(session)
        if plan.capacity < held:
            problems.add("capacity", f"{held} places are already booked, so the capacity cannot be less than {held}")

    online_url = _clean(plan.online_url)
    if plan.venue is None and not online_url:
        problems.add("venue", "Choose a venue, or give an online joining link")
    if online_url and not re.match(r"^https://\S+$", online_url):
        problems.add("online_url", "Enter the joining link as a web address starting https://")
    if plan.venue is not None and not plan.venue.active and plan.venue.id != session.venue_id:
        problems.add("venue", f"{plan.venue.name} is no longer in use: choose another venue")
    if not 0 <= (plan.reservation_release_days or 0) <= 90:
        problems.add("reservation_release_days", "Release reserved places between 0 and 90 days before the start")

    opens = london_to_utc(plan.booking_opens_at) if plan.booking_opens_at else None
    closes = london_to_utc(plan.booking_closes_at) if plan.booking_closes_at else None
    first_start = min((s for s, _ in parts_utc), default=None)
    if opens and closes and opens >= closes:
        problems.add("booking_opens_at", "Booking must open before it closes")
    if closes and first_start and closes > first_start:
        problems.add("booking_closes_at", "Booking must close before the session starts")
    if opens and first_start and opens >= first_start:
        problems.add("booking_opens_at", "Booking must open before the session starts")

    held_in = _held_by_reservation(session)
    existing = {_reservation_key(r.sector, r.agency): r for r in session.reservations}
    seen: set[tuple[str, int]] = set()
    total = 0
    for index, reservation in enumerate(plan.reservations):
        if reservation.sector is not None and reservation.agency is not None:
            problems.add(f"reservations-{index}-sector_id",
                         f"Reserved places {index + 1}: choose a sector or an agency, not both")
            continue
        if reservation.sector is None and reservation.agency is None:
            problems.add(f"reservations-{index}-sector_id",
                         f"Reserved places {index + 1}: choose the sector or agency the places are for")
            continue
        key = _reservation_key(reservation.sector, reservation.agency)
        name = reservation.agency.name if reservation.agency else reservation.sector.name
        if key in seen:
            problems.add(f"reservations-{index}-sector_id", f"{name} already has places reserved on this session")
            continue
        seen.add(key)
        if reservation.places is None or reservation.places < 1:
            problems.add(f"reservations-{index}-places", f"Enter the number of places reserved for {name}, 1 or more")
            continue
        total += reservation.places
        current = existing.get(key)
        held = held_in.get(current.id, 0) if current is not None else 0
        if reservation.places < held:
            problems.add(f"reservations-{index}-places",
                         f"{held} people from {name} already hold reserved places, so reserve at least {held}")
    for key, current in existing.items():
        held = held_in.get(current.id, 0)
        if key not in seen and held:
            problems.add("reservations", f"{held} people hold the places reserved for {current.label}: keep at least {held}")
    if plan.capacity and total > plan.capacity:
        problems.add("reservations", f"The reserved places add up to {total}, more than the {plan.capacity} places on the session")
    problems.raise_any()
    return sorted(parts_utc)


def create_session(course: Course, plan: SessionPlan, actor: User) -> Session:
    """Add a draft session of `course` with its parts, venue, trainers and reserved places."""
    if course.is_retired:
        raise CourseError("This course is retired: reinstate it before adding sessions")
    # The course is attached last: attaching it would put the half-made session in the database
    # session, and the checks' queries would flush it.
    session = Session(status=DRAFT, sequence=0, created_at=utcnow())
    parts = _validate_plan(session, plan, check_past=True)
    _apply_plan(session, plan, parts)
    session.course = course
    db.session.add(session)
    db.session.flush()
    return session


def update_session(session: Session, plan: SessionPlan, actor: User) -> Session:
    """Change a session; a published one records time and venue changes for the people booked."""
    if session.status == CANCELLED:
        raise CourseError("This session is cancelled and cannot be changed")
    parts = _validate_plan(session, plan, check_past=_times_differ(session, parts_in_utc(plan)))
    old_times = _times_text(session)
    old_place = _place_text(session)
    time_changed = _times_differ(session, parts)
    place_changed = (session.venue_id != (plan.venue.id if plan.venue else None)
                     or session.online_url != _clean(plan.online_url))
    removed = _parts_to_remove(session, parts)
    _apply_plan(session, plan, parts)
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


def parts_in_utc(plan: SessionPlan) -> list[tuple[datetime, datetime]]:
    return sorted((london_to_utc(p.starts_at), london_to_utc(p.ends_at)) for p in plan.parts)


def _times_differ(session: Session, parts: list[tuple[datetime, datetime]]) -> bool:
    current = sorted((p.starts_at, p.ends_at) for p in session.parts)
    return current != list(parts)


def _times_text(session: Session) -> str:
    from app.templating import format_datetime, format_time

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


def _apply_plan(session: Session, plan: SessionPlan, parts: list[tuple[datetime, datetime]]) -> None:
    # Parts are edited in place, in date order, so each keeps its id and calendar UID.
    existing = sorted(session.parts, key=lambda p: (p.starts_at, p.id or 0))
    for part, (start, end) in zip(existing, parts):
        part.starts_at, part.ends_at = start, end
    for start, end in parts[len(existing):]:
        session.parts.append(SessionPart(starts_at=start, ends_at=end))
    for part in existing[len(parts):]:
        session.parts.remove(part)
    session.starts_at = parts[0][0]
    session.ends_at = max(end for _, end in parts)
    session.capacity = plan.capacity
    session.venue = plan.venue
    session.online_url = _clean(plan.online_url)
    session.booking_opens_at = london_to_utc(plan.booking_opens_at) if plan.booking_opens_at else None
    session.booking_closes_at = london_to_utc(plan.booking_closes_at) if plan.booking_closes_at else None
    session.reservation_release_days = plan.reservation_release_days or 0
    session.joining_instructions = _clean(plan.joining_instructions)
    session.trainers = list(plan.trainers)
    session.external_trainers = _clean(plan.external_trainers)[:500]
    session.updated_at = utcnow()
    _apply_reservations(session, plan.reservations)


def _apply_reservations(session: Session, plans: list[ReservationPlan]) -> None:
    wanted = {_reservation_key(p.sector, p.agency): p for p in plans}
    referenced: set[int] = set()
    ids = [r.id for r in session.reservations if r.id is not None]
    if ids:
        referenced = set(db.session.scalars(
            select(Booking.reservation_id).where(Booking.reservation_id.in_(ids)).distinct()
        ))
    for reservation in list(session.reservations):
        plan = wanted.pop(_reservation_key(reservation.sector, reservation.agency), None)
        if plan is not None:
            reservation.places = plan.places
        elif reservation.id in referenced:
            # Past bookings point at it: keep the row (no places) so their history stays whole.
            reservation.places = 0
        else:
            session.reservations.remove(reservation)
    for plan in wanted.values():
        session.reservations.append(Reservation(sector=plan.sector, agency=plan.agency, places=plan.places))


def plan_from_session(session: Session) -> SessionPlan:
    """The session as a plan (London wall-clock times), for editing or copying."""

    def london(moment):
        return to_london(moment).replace(tzinfo=None) if moment else None

    return SessionPlan(
        parts=[PartTimes(london(p.starts_at), london(p.ends_at))
               for p in sorted(session.parts, key=lambda p: p.starts_at)],
        capacity=session.capacity,
        venue=session.venue,
        online_url=session.online_url,
        booking_opens_at=london(session.booking_opens_at),
        booking_closes_at=london(session.booking_closes_at),
        reservation_release_days=session.reservation_release_days,
        joining_instructions=session.joining_instructions,
        trainers=list(session.trainers),
        external_trainers=session.external_trainers,
        reservations=[ReservationPlan(places=r.places, sector=r.sector, agency=r.agency)
                      for r in session.reservations if r.places > 0],
    )


def _shift(moment: datetime | None, days: int) -> datetime | None:
    # Shift in London wall-clock time, so 9:30 stays 9:30 across a clock change.
    return moment + timedelta(days=days) if moment else None


def duplicate_session(session: Session, first_days: list[date], actor: User) -> list[Session]:
    """Copy a session to new dates (one copy per first day), as drafts with the same set-up."""
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
    problems = _Problems()
    for index, day in enumerate(days):
        offset = (day - first).days
        plan = plan_from_session(session)
        plan.parts = [PartTimes(_shift(p.starts_at, offset), _shift(p.ends_at, offset)) for p in template.parts]
        plan.booking_opens_at = _shift(template.booking_opens_at, offset)
        plan.booking_closes_at = _shift(template.booking_closes_at, offset)
        if plan.booking_opens_at and london_to_utc(plan.booking_opens_at) < utcnow():
            plan.booking_opens_at = None  # open at once rather than at a moment already past
        try:
            _validate_plan(Session(), plan, check_past=True)
        except CourseError as error:
            for _field, message in error.problems:
                problems.add(f"dates-{index}", f"Copy on {day.strftime('%-d %B %Y')}: {message}")
        plans.append(plan)
    problems.raise_any()
    copies = []
    for plan in plans:
        copy = Session(status=DRAFT, sequence=0, created_at=utcnow())
        _apply_plan(copy, plan, parts_in_utc(plan))
        copy.course = session.course
        db.session.add(copy)
        copies.append(copy)
    db.session.flush()
    return copies


def publish_sessions(sessions: list[Session], actor: User) -> list[Session]:
    """Publish draft sessions so people can see and book them (all or none)."""
    if not sessions:
        raise CourseError("Choose at least one session to publish", "session_ids")
    problems = _Problems()
    now = utcnow()
    to_publish = []
    for session in sessions:
        name = f"{session.course.title} on {_first_day(session)}"
        if session.status == PUBLISHED:
            continue
        if session.status == CANCELLED:
            problems.add("session_ids", f"{name} is cancelled and cannot be published")
        elif not session.parts:
            problems.add("session_ids", f"{name} has no dates")
        elif session.starts_at <= now:
            problems.add("session_ids", f"{name} has already started")
        elif session.course.is_retired:
            problems.add("session_ids", f"{name} is a session of a retired course")
        else:
            to_publish.append(session)
    problems.raise_any()
    for session in to_publish:
        session.status = PUBLISHED
        session.updated_at = now
    db.session.flush()
    return to_publish


def _first_day(session: Session) -> str:
    from app.templating import format_date

    return format_date(session.starts_at) if session.starts_at else "no date"


def cancel_session(session: Session, reason: str, actor: User) -> Session:
    """Cancel a session, keeping it (and its bookings) with the reason; people booked are told."""
    reason = _clean(reason)
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


def delete_session(session: Session, actor: User) -> None:
    """Remove a draft session entered by mistake (never one anybody booked)."""
    if session.status != DRAFT:
        raise CourseError("Only a draft session can be deleted: cancel a published one instead")
    if db.session.scalar(select(func.count()).select_from(Booking).where(Booking.session_id == session.id)):
        raise CourseError("People have booked this session, so it cannot be deleted")
    db.session.delete(session)
    db.session.flush()


def trainer_candidates() -> list[User]:
    """People with the trainer role, by name."""
    from app.accounts.models import ACTIVE, TRAINER, RoleGrant

    return list(db.session.scalars(
        select(User).where(User.status == ACTIVE, User.role_grants.any(RoleGrant.role == TRAINER))
        .order_by(User.name)
    ))

