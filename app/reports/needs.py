"""Training needs analyses: create them, set their period, enter and delete their lines."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update

from app.accounts.models import Agency, Sector, User
from app.clock import today_london, utcnow
from app.courses.models import Course, Level
from app.extensions import db
from app.filters import Period
from app.reports.errors import ReportsError
from app.reports.models import TnaLine, TrainingNeedsAnalysis, line_key


def check_period(starts_on: date | None, ends_on: date | None) -> Period:
    """Refuse a period without both dates or that ends before it starts."""
    if starts_on is None or ends_on is None:
        raise ReportsError("Enter the date the period starts and the date it ends.",
                           "starts_on" if starts_on is None else "ends_on")
    if ends_on < starts_on:
        raise ReportsError("The period must end on or after the day it starts.", "ends_on")
    return Period(starts_on, ends_on)


def check_name(name: str, tna: TrainingNeedsAnalysis | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ReportsError("Enter a name for the training needs analysis.", "name")
    if len(name) > 200:
        raise ReportsError("The name must be 200 characters or fewer.", "name")
    query = select(TrainingNeedsAnalysis.id).where(func.lower(TrainingNeedsAnalysis.name) == name.lower())
    if tna is not None and tna.id is not None:
        query = query.where(TrainingNeedsAnalysis.id != tna.id)
    if db.session.scalar(query):
        raise ReportsError(f"There is already a training needs analysis called “{name}”.", "name")
    return name


def create_tna(name: str, starts_on: date | None, ends_on: date | None,
               actor: User) -> TrainingNeedsAnalysis:
    """Start a training needs analysis for a period."""
    period = check_period(starts_on, ends_on)
    tna = TrainingNeedsAnalysis(
        name=check_name(name), starts_on=period.starts_on, ends_on=period.ends_on,
        created_by_id=actor.id, created_at=utcnow(), updated_at=utcnow(),
    )
    db.session.add(tna)
    db.session.flush()
    return tna


def update_tna(tna: TrainingNeedsAnalysis, name: str, starts_on: date | None,
               ends_on: date | None, actor: User) -> None:
    """Rename an analysis or change its period."""
    period = check_period(starts_on, ends_on)
    tna.name = check_name(name, tna)
    tna.starts_on, tna.ends_on = period.starts_on, period.ends_on
    tna.updated_at = utcnow()
    db.session.flush()


def current_tna(day: date | None = None) -> TrainingNeedsAnalysis | None:
    """The analysis whose period contains `day` (today), else the latest one."""
    day = day or today_london()
    found = db.session.scalar(
        select(TrainingNeedsAnalysis)
        .where(TrainingNeedsAnalysis.starts_on <= day, TrainingNeedsAnalysis.ends_on >= day)
        .order_by(TrainingNeedsAnalysis.starts_on.desc())
        .limit(1)
    )
    return found or db.session.scalar(
        select(TrainingNeedsAnalysis).order_by(TrainingNeedsAnalysis.ends_on.desc()).limit(1)
    )


def set_scope(tna: TrainingNeedsAnalysis, sector_id: int, agency_id: int | None,
               staff_in_scope: int, actor: User) -> None:
    """Staff in scope belongs to a sector (or agency): keep it the same on all its lines."""
    db.session.execute(
        update(TnaLine)
        .where(TnaLine.tna_id == tna.id, TnaLine.sector_id == sector_id,
               TnaLine.agency_id.is_(None) if agency_id is None else TnaLine.agency_id == agency_id,
               TnaLine.staff_in_scope != staff_in_scope)
        .values(staff_in_scope=staff_in_scope, updated_by_id=actor.id, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )


def _check_numbers(staff_in_scope: int | None, needed: int | None) -> None:
    if staff_in_scope is None or needed is None:
        raise ReportsError("Enter the staff in scope and the number who need the training.",
                           "staff_in_scope" if staff_in_scope is None else "needed")
    if staff_in_scope < 0 or needed < 0:
        raise ReportsError("Numbers cannot be negative.",
                           "staff_in_scope" if staff_in_scope < 0 else "needed")
    if needed > staff_in_scope:
        raise ReportsError(f"The number who need it ({needed}) is more than the staff in scope "
                           f"({staff_in_scope}).", "needed")


def save_line(tna: TrainingNeedsAnalysis, *, sector: Sector, agency: Agency | None,
              course: Course | None, level: Level | None, staff_in_scope: int | None,
              needed: int | None, actor: User, line: TnaLine | None = None) -> TnaLine:
    """Add a line to an analysis, or change one (staff in scope applies to the sector or agency)."""
    if (course is None) == (level is None):
        raise ReportsError("Choose a course or a level, not both.", "course_id")
    if agency is not None and agency.sector_id != sector.id:
        raise ReportsError(f"{agency.name} is in the {agency.sector.name} sector, not {sector.name}.",
                           "agency_id")
    _check_numbers(staff_in_scope, needed)
    key = line_key(sector.id, agency.id if agency else None, course.id if course else None,
                   level.id if level else None)
    clash = db.session.scalar(
        select(TnaLine).where(TnaLine.tna_id == tna.id, TnaLine.line_key == key)
    )
    if clash is not None and clash is not line:
        raise ReportsError("This analysis already has a line for that sector, agency and training; "
                           "change that line instead.", "sector_id")
    if line is None:
        line = TnaLine(tna=tna)
        db.session.add(line)
    line.sector_id = sector.id
    line.agency_id = agency.id if agency else None
    line.course_id = course.id if course else None
    line.level_id = level.id if level else None
    line.line_key = key
    line.staff_in_scope = staff_in_scope
    line.needed = needed
    line.updated_by_id = actor.id
    line.updated_at = utcnow()
    db.session.flush()
    set_scope(tna, sector.id, line.agency_id, staff_in_scope, actor)
    tna.updated_at = utcnow()
    db.session.flush()
    return line


def delete_line(line: TnaLine, actor: User) -> None:
    """Remove a line from its analysis."""
    line.tna.updated_at = utcnow()
    db.session.delete(line)
    db.session.flush()
