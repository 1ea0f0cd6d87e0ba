"""The reports' reads: an agency's bookings, refreshers and suspensions; the training needs analyses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased, joinedload

from app.accounts.models import ACTIVE, Agency, Sector, User
from app.attendance.models import Suspension
from app.attendance.refreshers import refresher_due_on, refresher_state
from app.attendance.suspensions import NO_SHOW_OUTCOMES
from app.bookings.models import CANCELLED, CONFIRMED, OFFERED, PRESENT_OUTCOMES, WAITING, Booking, Completion
from app.clock import today_london, utcnow
from app.courses.models import Course, Level, Session
from app.extensions import db
from app.filters import Period
from app.reports.models import PENDING, NeedsProposal, TnaImport, TnaLine, TrainingNeedsAnalysis


def agency_bookings(agency: Agency, period: Period, course_id: int | None = None) -> list[Booking]:
    """The agency's bookings (made for it) on sessions starting in the period."""
    query = (
        select(Booking)
        .join(Session, Session.id == Booking.session_id)
        .where(Booking.agency_id == agency.id, Session.starts_at >= period.start_utc,
               Session.starts_at < period.end_utc)
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(Session.course))
        .order_by(Session.starts_at, Booking.id)
    )
    if course_id:
        query = query.where(Session.course_id == course_id)
    return list(db.session.scalars(query).unique())


def agency_online_completions(agency: Agency, period: Period, course_id: int | None = None) -> list[Completion]:
    """Online courses the agency's staff (its people now) completed in the period: recorded by
    themselves or imported from the e-learning provider; they count as attended in the reports."""
    query = (
        select(Completion)
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .where(User.agency_id == agency.id, Course.is_online.is_(True), Completion.booking_id.is_(None),
               Completion.counts, Completion.completed_on.between(period.starts_on, period.ends_on))
        .options(joinedload(Completion.user), joinedload(Completion.course))
        .order_by(Completion.completed_on, Completion.id)
    )
    if course_id:
        query = query.where(Completion.course_id == course_id)
    return list(db.session.scalars(query))


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
    # Each person's latest completion on each clock, picked in the database (a window over their
    # completions), so only those rows come back rather than every completion of the staff.
    ranked = (
        select(Completion.id.label("completion_id"), clock.id.label("clock_id"),
               func.row_number().over(
                   partition_by=(Completion.user_id, clock.id),
                   order_by=(Completion.completed_on.desc(), Completion.id.desc())).label("rank"))
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .join(clock, clock.id == func.coalesce(Course.renews_course_id, Course.id))
        .where(User.agency_id == agency.id, User.status == ACTIVE, clock.refresher_months.is_not(None),
               Completion.counts)
    )
    if course_id:
        ranked = ranked.where(clock.id == course_id)
    latest = ranked.subquery("latest")
    query = (
        select(Completion, clock)
        .join(latest, and_(latest.c.completion_id == Completion.id, latest.c.rank == 1))
        .join(clock, clock.id == latest.c.clock_id)
        .options(joinedload(Completion.user), joinedload(Completion.course))
    )
    rows = []
    for completion, course in db.session.execute(query).unique():
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


# --- Lists a page at a time ----------------------------------------------------------------------

def page_of(query: Select, page: int, size: int) -> tuple[list, int]:
    """One page of a query's rows, and how many rows there are in all."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(size).offset((page - 1) * size)).all()
    return rows, total


# --- Training needs analyses ---------------------------------------------------------------------

def analyses() -> list[TrainingNeedsAnalysis]:
    """Every training needs analysis, the latest period first."""
    return list(db.session.scalars(
        select(TrainingNeedsAnalysis).order_by(TrainingNeedsAnalysis.starts_on.desc())))


def analyses_with_line_counts() -> list:
    """(analysis, number of lines) for every analysis, the latest period first."""
    return db.session.execute(
        select(TrainingNeedsAnalysis, func.count(TnaLine.id))
        .outerjoin(TnaLine, TnaLine.tna_id == TrainingNeedsAnalysis.id)
        .group_by(TrainingNeedsAnalysis.id).order_by(TrainingNeedsAnalysis.starts_on.desc())
    ).all()


def analysis_lines(tna: TrainingNeedsAnalysis) -> list[TnaLine]:
    """An analysis's lines by sector, then agency."""
    return list(db.session.scalars(
        select(TnaLine).join(Sector, Sector.id == TnaLine.sector_id)
        .outerjoin(Agency, Agency.id == TnaLine.agency_id)
        .where(TnaLine.tna_id == tna.id).order_by(Sector.position, Sector.name, Agency.name, TnaLine.id)
    ))


def past_imports(tna: TrainingNeedsAnalysis) -> list[TnaImport]:
    """The imports applied to (or discarded for) an analysis, newest first."""
    return list(db.session.scalars(
        select(TnaImport).where(TnaImport.tna_id == tna.id, TnaImport.status != PENDING)
        .order_by(TnaImport.uploaded_at.desc())
    ))


def line_choices() -> tuple[list[Sector], list[Agency], list[Course], list[Level]]:
    """What a line of an analysis can be for: sectors, agencies (by sector), courses and levels."""
    sectors = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all()
    agencies = db.session.scalars(select(Agency).join(Agency.sector).order_by(Sector.position, Agency.name)).all()
    courses = db.session.scalars(select(Course).order_by(Course.title)).all()
    levels = db.session.scalars(select(Level).order_by(Level.position, Level.name)).all()
    return list(sectors), list(agencies), list(courses), list(levels)


def agency_waiting(agency: Agency) -> list[Booking]:
    """The agency's staff waiting (or offered a place) on upcoming sessions, soonest first."""
    return list(db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.agency_id == agency.id, Booking.status.in_((WAITING, OFFERED)),
               Session.starts_at > utcnow())
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(Session.course))
        .order_by(Session.starts_at, Booking.waiting_since, Booking.id)
    ).unique())


def agency_people(agency: Agency) -> list[User]:
    """The agency's active people, by name (a coordinator books for them)."""
    return list(db.session.scalars(
        select(User).where(User.agency_id == agency.id, User.status == ACTIVE).order_by(User.name, User.id)))


def needs_proposals(agency_ids: frozenset[int] | None = None, tna: TrainingNeedsAnalysis | None = None,
                    limit: int = 200) -> list[NeedsProposal]:
    """Needs proposals, waiting ones first then the newest (of these agencies and analysis, if given)."""
    query = (select(NeedsProposal)
             .options(joinedload(NeedsProposal.agency), joinedload(NeedsProposal.tna),
                      joinedload(NeedsProposal.proposed_by), joinedload(NeedsProposal.decided_by))
             .order_by((NeedsProposal.status == PENDING).desc(), NeedsProposal.proposed_at.desc(),
                       NeedsProposal.id.desc()).limit(limit))
    if agency_ids is not None:
        query = query.where(NeedsProposal.agency_id.in_(agency_ids or [-1]))
    if tna is not None:
        query = query.where(NeedsProposal.tna_id == tna.id)
    return list(db.session.scalars(query))


def analyses_latest_first() -> list[TrainingNeedsAnalysis]:
    """Every training needs analysis, the latest period first."""
    return list(db.session.scalars(select(TrainingNeedsAnalysis).order_by(TrainingNeedsAnalysis.starts_on.desc())))
