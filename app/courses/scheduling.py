"""Sessions and their parts: planning, checking, adding, publishing and deleting them.

A session is planned (SessionPlan, in London wall-clock times) and checked whole against the
bookings it holds before anything changes; its parts are edited in place so each keeps its
calendar UID. Changing a published session is in app/courses/changes.py, copying one in
app/courses/copying.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.accounts.models import Agency, Sector, User
from app.clock import london_to_utc, to_london, utcnow
from app.courses.availability import booking_facts
from app.courses.clashes import clashes_to_check, may_book_anyway, record_booked_anyway
from app.courses.interest import tell_interested
from app.courses.models import CANCELLED, DRAFT, PUBLISHED, Course, Reservation, Session, SessionPart, Venue
from app.courses.problems import CourseError, Problems, clean, saved
from app.extensions import db
from app.templating import format_date

MAX_CAPACITY = 1000
MAX_PARTS = 10


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
    # The administrator who chose to book a trainer or room already booked at the time, if any.
    book_anyway_by: User | None = None
    closed_to_agency: Agency | None = None  # a closed session, for this agency's staff only


def _reservation_key(sector: Sector | None, agency: Agency | None) -> tuple[str, int]:
    return ("agency", agency.id) if agency is not None else ("sector", sector.id if sector else 0)


def validate_plan(session: Session, plan: SessionPlan, *, check_past: bool) -> list[tuple[datetime, datetime]]:
    """Check a plan against the session's bookings; return its parts in UTC, in order."""
    problems = Problems()
    now = utcnow()
    held_in = booking_facts().held_by_reservation(session)
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
        held = sum(held_in.values())
        if plan.capacity < held:
            problems.add("capacity", f"{held} places are already booked, so the capacity cannot be less than {held}")

    online_url = clean(plan.online_url)
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
        held = held_in.get(current.id, 0) if current is not None and current.id is not None else 0
        if reservation.places < held:
            problems.add(f"reservations-{index}-places",
                         f"{held} people from {name} already hold reserved places, so reserve at least {held}")
    for key, current in existing.items():
        held = held_in.get(current.id, 0)
        if key not in seen and held:
            problems.add("reservations", f"{held} people hold the places reserved for {current.label}: keep at least {held}")
    closed_to = plan.closed_to_agency
    if closed_to is not None and not closed_to.active and closed_to.id != session.closed_to_agency_id:
        problems.add("closed_to_agency", f"{closed_to.name} is no longer in use: choose another agency")
    if closed_to is not None and any(r.agency is not None and r.agency.id != closed_to.id
                                     or r.sector is not None and r.sector.id != closed_to.sector_id
                                     for r in plan.reservations):
        problems.add("reservations", f"The session is closed to {closed_to.name}: reserve places only for "
                                     "that agency or its sector, or for nobody")
    if closed_to is not None and closed_to.id != session.closed_to_agency_id:
        outside = booking_facts().active_bookers_outside(session, closed_to.id)
        if outside:
            who = "1 person from another agency holds or waits for a place" if outside == 1 else \
                f"{outside} people from other agencies hold or wait for places"
            problems.add("closed_to_agency", f"{who} on this session: move or cancel their bookings before "
                                             f"closing it to {closed_to.name}")
    if plan.capacity and total > plan.capacity:
        problems.add("reservations", f"The reserved places add up to {total}, more than the {plan.capacity} places on the session")
    if not problems.items:
        clashes = clashes_to_check(session, sorted(parts_utc), plan.venue, plan.trainers)
        if clashes and not may_book_anyway(plan.book_anyway_by):
            for clash in clashes:
                problems.add(clash.field, clash.message)
            if plan.book_anyway_by is not None:
                problems.add("book_anyway", "Only an administrator can book a trainer or room twice")
    problems.raise_any()
    return sorted(parts_utc)


def keep_booked_anyway(session: Session, plan: SessionPlan, parts: list[tuple[datetime, datetime]]) -> None:
    """Before applying a checked plan: record in the session's history the clashes booked anyway."""
    if plan.book_anyway_by is None:
        return
    clashes = clashes_to_check(session, parts, plan.venue, plan.trainers)
    if clashes:
        record_booked_anyway(session, clashes, plan.book_anyway_by)


def create_session(course: Course, plan: SessionPlan, actor: User) -> Session:
    """Add a draft session of `course` with its parts, venue, trainers and reserved places."""
    if course.is_retired:
        raise CourseError("This course is retired: reinstate it before adding sessions")
    # The course is attached last: attaching it would put the half-made session in the database
    # session, and the checks' queries would flush it.
    session = Session(status=DRAFT, sequence=0, created_at=utcnow())
    parts = validate_plan(session, plan, check_past=True)
    keep_booked_anyway(session, plan, parts)
    apply_plan(session, plan, parts)
    session.course = course
    return saved(session, new=True)


def parts_in_utc(plan: SessionPlan) -> list[tuple[datetime, datetime]]:
    """The plan's parts as UTC (start, end) pairs, in order."""
    return sorted((london_to_utc(p.starts_at), london_to_utc(p.ends_at)) for p in plan.parts)


def apply_plan(session: Session, plan: SessionPlan, parts: list[tuple[datetime, datetime]]) -> None:
    """Set the session to the checked plan (`parts`: its times in UTC, from validate_plan)."""
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
    session.online_url = clean(plan.online_url)
    session.booking_opens_at = london_to_utc(plan.booking_opens_at) if plan.booking_opens_at else None
    session.booking_closes_at = london_to_utc(plan.booking_closes_at) if plan.booking_closes_at else None
    session.reservation_release_days = plan.reservation_release_days or 0
    session.joining_instructions = clean(plan.joining_instructions)
    session.trainers = list(plan.trainers)
    session.external_trainers = clean(plan.external_trainers)[:500]
    session.closed_to_agency = plan.closed_to_agency
    session.updated_at = utcnow()
    _apply_reservations(session, plan.reservations)


def _apply_reservations(session: Session, plans: list[ReservationPlan]) -> None:
    wanted = {_reservation_key(p.sector, p.agency): p for p in plans}
    referenced = booking_facts().reservations_in_use([r.id for r in session.reservations if r.id is not None])
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
        closed_to_agency=session.closed_to_agency,
    )


def publish_sessions(sessions: list[Session], actor: User) -> list[Session]:
    """Publish draft sessions so people can see and book them (all or none)."""
    if not sessions:
        raise CourseError("Choose at least one session to publish", "session_ids")
    problems = Problems()
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
        session.published_at = session.published_at or now
    db.session.flush()
    for session in to_publish:
        tell_interested(session)
    return to_publish


def _first_day(session: Session) -> str:
    return format_date(session.starts_at) if session.starts_at else "no date"


def delete_session(session: Session, actor: User) -> None:
    """Remove a draft session entered by mistake (never one anybody booked)."""
    if session.status != DRAFT:
        raise CourseError("Only a draft session can be deleted: cancel a published one instead")
    if booking_facts().has_bookings(session):
        raise CourseError("People have booked this session, so it cannot be deleted")
    db.session.delete(session)
    db.session.flush()
