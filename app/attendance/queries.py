"""Read-only views of attendance: registers, training records, suspensions, charges statements."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Agency, User
from app.attendance import dates
from app.attendance.completions import ATTENDANCE_SOURCE
from app.attendance.models import (
    UPLOAD_PENDING,
    Charge,
    CompletionUpload,
    SessionMaterial,
    SingleAgencyAttendee,
    SingleAgencyTraining,
    Suspension,
)
from app.attendance.refreshers import refresher_clock, refresher_due_on, refresher_state
from app.attendance.register import register_bookings
from app.bookings.models import (
    CONFIRMED,
    E_LEARNING_IMPORT,
    PRESENT_OUTCOMES,
    PRIOR_LEARNING,
    SELF_RECORDED,
    Booking,
    BookingEvent,
    Completion,
    WorkshopChoice,
)
from app.clock import today_london
from app.courses.models import PUBLISHED, Course, Level, Session, session_trainers
from app.extensions import db

SOURCE_LABELS = {ATTENDANCE_SOURCE: "Attended", SELF_RECORDED: "Completed online", PRIOR_LEARNING: "Done elsewhere",
                 E_LEARNING_IMPORT: "Completed online (from the e-learning provider)"}


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


# ---------------------------------------------------------------- suspensions


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


CHARGE_HEADER = ["Agency", "Name", "E-mail", "Course", "Course code", "Date", "Reason",
                 "Amount (GBP)", "Status", "Waiver reason", "Charge reference"]


def charge_rows(charges: list[Charge]) -> list[list]:
    """A statement's charges as CHARGE_HEADER's columns, for a spreadsheet."""
    return [[c.agency.name if c.agency else "", c.user.name, c.user.email, c.course.title,
             c.course.code, c.incurred_on, c.reason_label, f"{c.amount_pence / 100:.2f}",
             c.status_label, c.waiver_reason, f"CH-{c.id:06d}"] for c in charges]


def courses_for_filter() -> list[Course]:
    """The courses a period filter offers: those with sessions in a room (not online)."""
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


def workshop_rows(session: Session) -> list[tuple]:
    """(workshop, booking) for everyone on the register with a workshop chosen, by workshop time,
    workshop and then as the register sorts people."""
    chosen = db.session.execute(
        select(WorkshopChoice.item_id, WorkshopChoice.booking_id)
        .join(Booking, WorkshopChoice.booking_id == Booking.id)
        .where(Booking.session_id == session.id, Booking.status == CONFIRMED)
    ).all()
    bookings = {b.id: b for b in register_bookings(session)}
    order = {b_id: n for n, b_id in enumerate(bookings)}
    items = {item.id: item for item in session.workshops}
    rows = [(items[item_id], bookings[booking_id]) for item_id, booking_id in chosen
            if item_id in items and booking_id in bookings]
    return sorted(rows, key=lambda row: (row[0].starts_at, row[0].title, order[row[1].id]))


def arrival_counts(session: Session) -> tuple[int, int]:
    """(People on the session's register, how many of them have arrived: attended or partly.)"""
    total, arrived = db.session.execute(
        select(func.count(), func.count(Booking.id).filter(Booking.outcome.in_(PRESENT_OUTCOMES)))
        .where(Booking.session_id == session.id, Booking.status == CONFIRMED)
    ).one()
    return total, arrived


# ---------------------------------------------------------------- registers, walk-ins and corrections


def trainer_sessions(trainer: User | None, past: bool, cutoff: datetime):
    """Published sessions (a trainer's own, or all when `trainer` is None) that ended before the
    cutoff, newest first (`past`), or after it, soonest first."""
    query = select(Session).where(Session.status == PUBLISHED, Session.starts_at.is_not(None))
    if trainer is not None:
        query = query.join(session_trainers, session_trainers.c.session_id == Session.id).where(
            session_trainers.c.user_id == trainer.id)
    ended = func.coalesce(Session.ends_at, Session.starts_at)
    if past:
        query = query.where(ended < cutoff).order_by(Session.starts_at.desc())
    else:
        query = query.where(ended >= cutoff).order_by(Session.starts_at)
    # Each row shows its course, venue and days: loaded with the page, not one session at a time.
    return query.options(selectinload(Session.parts), joinedload(Session.course), joinedload(Session.venue))


def active_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def booking_events(booking: Booking) -> list[BookingEvent]:
    """A booking's history, oldest first."""
    return list(db.session.scalars(
        select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(BookingEvent.id)))


def marked_bookings(person: User) -> list[Booking]:
    """The person's confirmed bookings with attendance marked, newest session first."""
    return list(db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.user_id == person.id, Booking.status == CONFIRMED, Booking.outcome.is_not(None))
        .order_by(Session.starts_at.desc())
    ))


def past_completion_uploads(limit: int = 20) -> list[CompletionUpload]:
    """The e-learning completion files applied or discarded, newest first (counts only, no rows)."""
    return list(db.session.scalars(
        select(CompletionUpload).where(CompletionUpload.status != UPLOAD_PENDING)
        .options(joinedload(CompletionUpload.uploaded_by))
        .order_by(CompletionUpload.uploaded_at.desc(), CompletionUpload.id.desc()).limit(limit)
    ))
def materials_of(session: Session) -> list[SessionMaterial]:
    """A session's pre-course material, oldest first (without the files' content)."""
    return list(db.session.scalars(
        select(SessionMaterial).where(SessionMaterial.session_id == session.id)
        .options(joinedload(SessionMaterial.uploaded_by)).order_by(SessionMaterial.id)))


def material_count(session: Session) -> int:
    return db.session.scalar(select(func.count()).select_from(SessionMaterial)
                             .where(SessionMaterial.session_id == session.id)) or 0


def confirmed_bookings_on(session: Session) -> list[Booking]:
    """The bookings with a confirmed place on a session, with their people, by id."""
    return list(db.session.scalars(
        select(Booking).where(Booking.session_id == session.id, Booking.status == CONFIRMED)
        .options(joinedload(Booking.user)).order_by(Booking.id)))


def has_confirmed_place(session: Session, person: User) -> bool:
    return db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.session_id == session.id, Booking.user_id == person.id, Booking.status == CONFIRMED)) > 0

# --- Single-agency training ----------------------------------------------------------------------

def single_agency_trainings(agency_ids: frozenset[int] | None, agency_id: int | None = None,
                            limit: int = 500) -> list[SingleAgencyTraining]:
    """Single-agency training of these agencies (None: every agency), newest first, optionally of one."""
    query = (select(SingleAgencyTraining)
             .options(joinedload(SingleAgencyTraining.agency), joinedload(SingleAgencyTraining.level),
                      joinedload(SingleAgencyTraining.course), selectinload(SingleAgencyTraining.attendees))
             .order_by(SingleAgencyTraining.held_on.desc(), SingleAgencyTraining.id.desc()).limit(limit))
    if agency_ids is not None:
        query = query.where(SingleAgencyTraining.agency_id.in_(agency_ids or [-1]))
    if agency_id:
        query = query.where(SingleAgencyTraining.agency_id == agency_id)
    return list(db.session.scalars(query).unique())


def single_agency_training_of(person: User) -> list[SingleAgencyTraining]:
    """The single-agency training a person attended, newest first (for their training record)."""
    return list(db.session.scalars(
        select(SingleAgencyTraining)
        .join(SingleAgencyAttendee, SingleAgencyAttendee.training_id == SingleAgencyTraining.id)
        .options(joinedload(SingleAgencyTraining.agency), joinedload(SingleAgencyTraining.level))
        .where(SingleAgencyAttendee.user_id == person.id)
        .order_by(SingleAgencyTraining.held_on.desc(), SingleAgencyTraining.id.desc())
    ))


def levels_for_choice() -> list:
    """The levels, in the order the partnership lists them (single-agency training's level)."""
    return list(db.session.scalars(select(Level).order_by(Level.position, Level.name)))
