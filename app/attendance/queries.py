"""Read-only views of attendance: training records, an agency's people, charges statements."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.accounts.models import ACTIVE, Agency, User
from app.attendance import dates
from app.attendance.completions import ATTENDANCE_SOURCE
from app.attendance.dates import day_start_utc
from app.attendance.models import Charge, Suspension
from app.attendance.refreshers import refresher_clock, refresher_due_on, refresher_state
from app.attendance.suspensions import NO_SHOW_OUTCOMES
from app.bookings.models import (
    CANCELLED,
    CONFIRMED,
    PRESENT_OUTCOMES,
    PRIOR_LEARNING,
    SELF_RECORDED,
    Booking,
    Completion,
)
from app.clock import add_months, today_london
from app.courses.models import Course, Session
from app.extensions import db

SOURCE_LABELS = {ATTENDANCE_SOURCE: "Attended", SELF_RECORDED: "Completed online", PRIOR_LEARNING: "Done elsewhere"}


def default_period() -> tuple[date, date]:
    """The last twelve months and the next three: what a coordinator usually wants to see."""
    today = today_london()
    return add_months(today, -12), add_months(today, 3)


@dataclass
class RecordRow:
    completion: Completion
    course: Course
    completed_on: date
    source_label: str
    hours: Decimal
    level: str
    refresher_due: date | None
    refresher_state: str  # "overdue", "due soon", "renewed" or ""
    booking: Booking | None

    @property
    def session_days(self) -> list[date]:
        return dates.session_days(self.booking.session) if self.booking else [self.completed_on]


def _source_label(completion: Completion) -> str:
    label = SOURCE_LABELS.get(completion.source, completion.source)
    return f"{label}: {completion.provider}" if completion.source == PRIOR_LEARNING else label


def training_record(person: User) -> list[RecordRow]:
    """Every course the person completed (learning done elsewhere once accepted), newest first; only
    the latest completion on a refresher clock (a course and the courses that renew it) is due one."""
    completions = db.session.scalars(
        select(Completion)
        .where(Completion.user_id == person.id, Completion.counts)
        .options(joinedload(Completion.course).joinedload(Course.level),
                 joinedload(Completion.course).joinedload(Course.renews),
                 joinedload(Completion.booking))
        .order_by(Completion.completed_on.desc(), Completion.id.desc())
    ).all()
    seen: set[int] = set()
    rows = []
    for completion in completions:
        course = completion.course
        clock = refresher_clock(course).id
        due = refresher_due_on(completion)
        if clock in seen:
            state = "renewed" if due else ""
        else:
            state = refresher_state(due)
            seen.add(clock)
        rows.append(RecordRow(
            completion=completion, course=course, completed_on=completion.completed_on,
            source_label=_source_label(completion),
            hours=course.duration_hours or Decimal("0"),
            level=course.level.name if course.level else "",
            refresher_due=due, refresher_state=state, booking=completion.booking,
        ))
    return rows


def total_hours(rows: list[RecordRow]) -> Decimal:
    return sum((r.hours for r in rows), Decimal("0"))


# ---------------------------------------------------------------- agencies


def _session_in_period(start: date, end: date):
    return and_(Session.starts_at >= day_start_utc(start),
                Session.starts_at < day_start_utc(end + timedelta(days=1)))


def agency_bookings(agency: Agency, start: date, end: date, course_id: int | None = None) -> list[Booking]:
    """The agency's bookings (made for it) on sessions starting in the period."""
    query = (
        select(Booking)
        .join(Session, Session.id == Booking.session_id)
        .where(Booking.agency_id == agency.id, _session_in_period(start, end))
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(Session.course))
        .order_by(Session.starts_at, Booking.id)
    )
    if course_id:
        query = query.where(Session.course_id == course_id)
    return list(db.session.scalars(query).unique())


@dataclass
class AgencySummary:
    bookings: int
    attended: int
    no_shows: int
    late_cancellations: int


def summarise(bookings: list[Booking]) -> AgencySummary:
    return AgencySummary(
        bookings=len(bookings),
        attended=sum(1 for b in bookings if b.status == CONFIRMED and b.outcome in PRESENT_OUTCOMES),
        no_shows=sum(1 for b in bookings if b.status == CONFIRMED and b.outcome in NO_SHOW_OUTCOMES),
        late_cancellations=sum(1 for b in bookings if b.status == CANCELLED and b.late_cancellation),
    )


@dataclass
class RefresherRow:
    person: User
    course: Course
    completed_on: date
    due: date
    state: str


def agency_refreshers(agency: Agency, course_id: int | None = None) -> list[RefresherRow]:
    """The agency's current staff whose refresher is overdue or due soon: the latest completion on
    each refresher clock (a course, or a course that renews it), shown under the renewed course."""
    clock = aliased(Course)
    query = (
        select(Completion, clock)
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .join(clock, clock.id == func.coalesce(Course.renews_course_id, Course.id))
        .where(User.agency_id == agency.id, User.status == ACTIVE, clock.refresher_months.is_not(None),
               Completion.counts)
        .options(joinedload(Completion.user), joinedload(Completion.course))
        .order_by(Completion.completed_on.desc(), Completion.id.desc())
    )
    if course_id:
        query = query.where(clock.id == course_id)
    seen: set[tuple[int, int]] = set()
    rows = []
    for completion, course in db.session.execute(query).unique():
        key = (completion.user_id, course.id)
        if key in seen:
            continue
        seen.add(key)
        due = refresher_due_on(completion)
        state = refresher_state(due)
        if state:
            rows.append(RefresherRow(completion.user, course, completion.completed_on, due, state))
    return sorted(rows, key=lambda r: (r.due, r.person.name))


def agency_suspensions(agency: Agency) -> list[Suspension]:
    """Suspensions in force for the agency's current staff."""
    today = today_london()
    return list(db.session.scalars(
        select(Suspension)
        .join(User, User.id == Suspension.user_id)
        .where(User.agency_id == agency.id, Suspension.lifted_at.is_(None),
               Suspension.starts_on <= today, Suspension.until > today)
        .options(joinedload(Suspension.user))
        .order_by(Suspension.until)
    ))


def all_active_suspensions() -> list[Suspension]:
    today = today_london()
    return list(db.session.scalars(
        select(Suspension)
        .where(Suspension.lifted_at.is_(None), Suspension.starts_on <= today, Suspension.until > today)
        .options(joinedload(Suspension.user).joinedload(User.agency))
        .order_by(Suspension.until)
    ))


def recently_lifted_suspensions(limit: int = 20) -> list[Suspension]:
    return list(db.session.scalars(
        select(Suspension).where(Suspension.lifted_at.is_not(None))
        .options(joinedload(Suspension.user), joinedload(Suspension.lifted_by))
        .order_by(Suspension.lifted_at.desc()).limit(limit)
    ))


# ---------------------------------------------------------------- charges


def charges_statement(
    start: date, end: date, agency_ids: set[int] | None = None, include_void: bool = False
) -> list[Charge]:
    """Charges incurred in the period (for some agencies, or all), by agency, date and person."""
    query = (
        select(Charge)
        .outerjoin(Agency, Agency.id == Charge.agency_id)
        .join(User, User.id == Charge.user_id)
        .where(Charge.incurred_on >= start, Charge.incurred_on <= end)
        .options(joinedload(Charge.user), joinedload(Charge.agency), joinedload(Charge.course),
                 selectinload(Charge.session).selectinload(Session.parts))
        .order_by(Agency.name, Charge.incurred_on, User.name, Charge.id)
    )
    if agency_ids is not None:
        query = query.where(Charge.agency_id.in_(agency_ids or {-1}))
    if not include_void:
        query = query.where(Charge.status != "void")
    return list(db.session.scalars(query).unique())


def charge_totals(charges: list[Charge]) -> dict[str, int]:
    """Pence due and waived across a statement."""
    totals = {"due": 0, "waived": 0}
    for charge in charges:
        if charge.status in totals:
            totals[charge.status] += charge.amount_pence
    return totals


def charge_totals_by_agency(charges: list[Charge]) -> list[tuple[str, int, int, int]]:
    """(agency, number due, pence due, pence waived) for an invoice run."""
    by_agency: dict[str, list[int]] = {}
    for charge in charges:
        name = charge.agency.name if charge.agency else "No agency"
        row = by_agency.setdefault(name, [0, 0, 0])
        if charge.status == "due":
            row[0] += 1
            row[1] += charge.amount_pence
        elif charge.status == "waived":
            row[2] += charge.amount_pence
    return [(name, *values) for name, values in sorted(by_agency.items())]


def courses_for_filter() -> list[Course]:
    return list(db.session.scalars(
        select(Course).where(Course.is_online.is_(False)).order_by(Course.title)
    ))


def register_counts(session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each session: (people on the register, how many are marked)."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Booking.session_id, func.count(), func.count(Booking.outcome))
        .where(Booking.session_id.in_(session_ids), Booking.status == CONFIRMED)
        .group_by(Booking.session_id)
    ).all()
    return {session_id: (total, marked) for session_id, total, marked in rows}
