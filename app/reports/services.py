"""Training needs analyses: create them, enter their lines, import them from CSV (checked, previewed,
then applied all at once), and e-mail coordinators about gaps."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ACTIVE, COORDINATOR, Agency, RoleGrant, Sector, User
from app.clock import today_london, utcnow
from app.courses.models import Course, Level
from app.errors import DomainError
from app.exports import csv_text, restore_defused
from app.extensions import db
from app.filters import Period
from app.inputs import DB_INT_MAX
from app.reports.models import (
    APPLIED,
    DISCARDED,
    PENDING,
    GapReminder,
    TnaImport,
    TnaLine,
    TrainingNeedsAnalysis,
    line_key,
)
from app.reports.notifications import notify_gap

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
CSV_COLUMNS = ["sector", "agency", "course_code", "course_title", "level", "staff_in_scope", "needed"]
REQUIRED_COLUMNS = ["sector", "agency", "course_code", "level", "staff_in_scope", "needed"]

ADDED = "added"
CHANGED = "changed"
UNCHANGED = "unchanged"


class ReportsError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any.

    The reports domain's one error class: ImportRefused below is the same refusal with its list of
    problems.
    """


class ImportRefused(ReportsError):
    """An uploaded file has rows that cannot be used; `problems` lists (line number, reason)."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"The file has {len(problems)} problem{'s' if len(problems) != 1 else ''}.",
                         "file", problems)

    def on_form(self) -> list[tuple]:
        # The lines are listed in a table; the form shows only the summary, beside the file.
        return [(self.field, self.message)]


def check_period(starts_on: date | None, ends_on: date | None) -> Period:
    """Refuse a period without both dates or that ends before it starts."""
    if starts_on is None or ends_on is None:
        raise ReportsError("Enter the date the period starts and the date it ends.",
                           "starts_on" if starts_on is None else "ends_on")
    if ends_on < starts_on:
        raise ReportsError("The period must end on or after the day it starts.", "ends_on")
    return Period(starts_on, ends_on)


def _check_name(name: str, tna: TrainingNeedsAnalysis | None = None) -> str:
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
        name=_check_name(name), starts_on=period.starts_on, ends_on=period.ends_on,
        created_by_id=actor.id, created_at=utcnow(), updated_at=utcnow(),
    )
    db.session.add(tna)
    db.session.flush()
    return tna


def update_tna(tna: TrainingNeedsAnalysis, name: str, starts_on: date | None,
               ends_on: date | None, actor: User) -> None:
    """Rename an analysis or change its period."""
    period = check_period(starts_on, ends_on)
    tna.name = _check_name(name, tna)
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


def _set_scope(tna: TrainingNeedsAnalysis, sector_id: int, agency_id: int | None,
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
    _set_scope(tna, sector.id, line.agency_id, staff_in_scope, actor)
    tna.updated_at = utcnow()
    db.session.flush()
    return line


def delete_line(line: TnaLine, actor: User) -> None:
    """Remove a line from its analysis."""
    line.tna.updated_at = utcnow()
    db.session.delete(line)
    db.session.flush()


# --- CSV template and import -------------------------------------------------------------------

def template_csv(tna: TrainingNeedsAnalysis | None = None) -> str:
    """A CSV with a row for every sector and every level and course, filled from `tna` if given."""
    sectors = db.session.scalars(
        select(Sector).where(Sector.active.is_(True)).order_by(Sector.position, Sector.name)
    ).all()
    levels = db.session.scalars(select(Level).order_by(Level.position, Level.name)).all()
    courses = db.session.scalars(
        select(Course).where(Course.retired_at.is_(None)).order_by(Course.title)
    ).all()
    existing: dict[str, TnaLine] = {line.line_key: line for line in (tna.lines if tna else [])}
    rows: list[list] = [CSV_COLUMNS]

    def numbers(key: str) -> list:
        line = existing.pop(key, None)
        return [line.staff_in_scope, line.needed] if line else ["", ""]

    for sector in sectors:
        for level in levels:
            rows.append([sector.name, "", "", "", level.name,
                         *numbers(line_key(sector.id, None, None, level.id))])
        for course in courses:
            rows.append([sector.name, "", course.code, course.title, "",
                         *numbers(line_key(sector.id, None, course.id, None))])
    # Agency lines and lines for inactive sectors or retired courses already in the analysis.
    for line in sorted(existing.values(), key=lambda l: l.id):
        rows.append([line.sector.name, line.agency.name if line.agency else "",
                     line.course.code if line.course else "", line.course.title if line.course else "",
                     line.level.name if line.level else "", line.staff_in_scope, line.needed])
    # Names people typed go out defused (a course called "=..." is text in Excel); the importer
    # restores them (restore_defused), so a filled-in template matches its rows again.
    return csv_text(rows)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in its own code page.
        return data.decode("cp1252", errors="replace")


def _whole_number(raw: str, label: str) -> tuple[int | None, str | None]:
    text = raw.strip().replace(",", "")
    if not text:
        return None, f"{label} is missing"
    try:
        value = int(text)
    except ValueError:
        return None, f"{label} “{raw.strip()}” is not a whole number"
    if value < 0:
        return None, f"{label} cannot be negative ({value})"
    if value > DB_INT_MAX:
        return None, f"{label} is too large ({raw.strip()[:20]})"
    return value, None


def read_tna_csv(data: bytes) -> tuple[list[dict], int]:
    """Check every row of an uploaded CSV; return (usable rows, blank rows) or raise ImportRefused."""
    if not data or not data.strip():
        raise ImportRefused([(1, "The file is empty.")])
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused([(1, "The file is larger than 2 MB.")])
    reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
    headers = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise ImportRefused([(1, "The first row must name the columns; missing: " + ", ".join(missing)
                              + ". Start from the template.")])
    reader.fieldnames = headers

    def by_name(model, column):
        return {name.strip().lower(): obj for obj, name in
                db.session.execute(select(model, column)).all()}

    sectors = by_name(Sector, Sector.name)
    agencies = by_name(Agency, Agency.name)
    courses = {c.code.strip().lower(): c for c in db.session.scalars(select(Course))}
    levels = by_name(Level, Level.name)

    problems: list[tuple[int, str]] = []
    rows: list[dict] = []
    seen: dict[str, int] = {}
    scope_seen: dict[tuple[int, int | None], tuple[int, int]] = {}
    blank = 0
    for record in reader:
        number = reader.line_num
        if number > MAX_IMPORT_ROWS + 1:
            problems.append((number, f"The file has more than {MAX_IMPORT_ROWS} rows; split it."))
            break
        value = {k: restore_defused((v or "").strip()) if isinstance(v, str) else ""
                 for k, v in record.items() if k}
        if not any(value.values()):
            continue
        if not value.get("staff_in_scope") and not value.get("needed"):
            blank += 1  # a template row left empty
            continue
        reasons: list[str] = []
        sector = sectors.get(value["sector"].lower()) if value["sector"] else None
        if not value["sector"]:
            reasons.append("no sector given")
        elif sector is None:
            reasons.append(f"unknown sector “{value['sector']}”")
        agency = None
        if value["agency"]:
            agency = agencies.get(value["agency"].lower())
            if agency is None:
                reasons.append(f"unknown agency “{value['agency']}”")
            elif sector is not None and agency.sector_id != sector.id:
                reasons.append(f"{agency.name} is in the {agency.sector.name} sector, not {sector.name}")
        course = level = None
        if value["course_code"] and value["level"]:
            reasons.append("give a course or a level, not both")
        elif value["course_code"]:
            course = courses.get(value["course_code"].lower())
            if course is None:
                reasons.append(f"unknown course code “{value['course_code']}”")
        elif value["level"]:
            level = levels.get(value["level"].lower())
            if level is None:
                reasons.append(f"unknown level “{value['level']}”")
        else:
            reasons.append("name a course (course_code) or a level")
        staff, why = _whole_number(value["staff_in_scope"], "Staff in scope")
        if why:
            reasons.append(why)
        needed, why = _whole_number(value["needed"], "Needed")
        if why:
            reasons.append(why)
        if staff is not None and needed is not None and needed > staff:
            reasons.append(f"needed ({needed}) is more than the staff in scope ({staff})")
        if sector is not None and (course or level) and not (value["agency"] and agency is None):
            key = line_key(sector.id, agency.id if agency else None,
                           course.id if course else None, level.id if level else None)
            if key in seen:
                reasons.append(f"duplicates line {seen[key]}")
            else:
                seen[key] = number
            scope = (sector.id, agency.id if agency else None)
            if staff is not None:
                if scope in scope_seen and scope_seen[scope][0] != staff:
                    first_staff, first_line = scope_seen[scope]
                    reasons.append(f"staff in scope {staff} differs from {first_staff} on line "
                                   f"{first_line} for the same sector and agency")
                scope_seen.setdefault(scope, (staff, number))
        else:
            key = ""
        if reasons:
            problems.append((number, "; ".join(reasons)))
            continue
        rows.append({
            "line": number, "key": key, "sector_id": sector.id,
            "agency_id": agency.id if agency else None,
            "course_id": course.id if course else None, "level_id": level.id if level else None,
            "staff_in_scope": staff, "needed": needed,
        })
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise ImportRefused([(1, "No row has numbers in it: fill in staff in scope and needed.")])
    return rows, blank


def upload_tna_import(data: bytes, filename: str, actor: User, *,
                      tna: TrainingNeedsAnalysis | None = None, name: str = "",
                      starts_on: date | None = None, ends_on: date | None = None) -> TnaImport:
    """Check an uploaded CSV and keep its rows, to be previewed, for an analysis (or a new one)."""
    if tna is None:
        period = check_period(starts_on, ends_on)
        name = _check_name(name)
    rows, _blank = read_tna_csv(data)
    pending = TnaImport(
        tna_id=tna.id if tna else None,
        new_name=name if tna is None else "",
        new_starts_on=period.starts_on if tna is None else None,
        new_ends_on=period.ends_on if tna is None else None,
        filename=(filename or "upload.csv")[:255],
        rows_json=json.dumps(rows),
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    db.session.add(pending)
    db.session.flush()
    return pending


@dataclass
class PreviewRow:
    kind: str
    line: int | None  # the file's line number; None: a line not in the file whose scope changes
    sector: str
    agency: str
    training: str
    old_staff: int | None
    new_staff: int
    old_needed: int | None
    new_needed: int


@dataclass
class ImportPreview:
    rows: list[PreviewRow] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r.kind == kind)

    @property
    def added(self) -> int:
        return self.count(ADDED)

    @property
    def changed(self) -> int:
        return self.count(CHANGED)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)


def _plan(pending: TnaImport) -> tuple[list[dict], dict[str, TnaLine], dict]:
    rows = json.loads(pending.rows_json)
    existing = {line.line_key: line for line in (pending.tna.lines if pending.tna else [])}
    scopes = {(r["sector_id"], r["agency_id"]): r["staff_in_scope"] for r in rows}
    return rows, existing, scopes


def preview_import(pending: TnaImport) -> ImportPreview:
    """What applying the import would add, change and leave as it is."""
    rows, existing, scopes = _plan(pending)
    names = _names(rows + [{"sector_id": l.sector_id, "agency_id": l.agency_id, "course_id": l.course_id,
                            "level_id": l.level_id} for l in existing.values()])
    preview = ImportPreview()
    in_file = set()
    for row in rows:
        in_file.add(row["key"])
        old = existing.get(row["key"])
        if old is None:
            kind = ADDED
        elif (old.staff_in_scope, old.needed) == (row["staff_in_scope"], row["needed"]):
            kind = UNCHANGED
        else:
            kind = CHANGED
        preview.rows.append(PreviewRow(
            kind, row["line"], *names(row), old.staff_in_scope if old else None,
            row["staff_in_scope"], old.needed if old else None, row["needed"]))
    for key, old in existing.items():
        staff = scopes.get((old.sector_id, old.agency_id))
        if key in in_file or staff is None or staff == old.staff_in_scope:
            continue
        preview.rows.append(PreviewRow(
            CHANGED, None, *names({"sector_id": old.sector_id, "agency_id": old.agency_id,
                                   "course_id": old.course_id, "level_id": old.level_id}),
            old.staff_in_scope, staff, old.needed, old.needed))
    return preview


def _names(rows: list[dict]):
    sector_ids = {r["sector_id"] for r in rows}
    agency_ids = {r["agency_id"] for r in rows if r["agency_id"]}
    course_ids = {r["course_id"] for r in rows if r["course_id"]}
    level_ids = {r["level_id"] for r in rows if r["level_id"]}
    sectors = dict(db.session.execute(select(Sector.id, Sector.name).where(Sector.id.in_(sector_ids))).all())
    agencies = dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).all())
    courses = dict(db.session.execute(select(Course.id, Course.title).where(Course.id.in_(course_ids))).all())
    levels = dict(db.session.execute(select(Level.id, Level.name).where(Level.id.in_(level_ids))).all())

    def names(row: dict) -> tuple[str, str, str]:
        training = (courses.get(row["course_id"], "") if row["course_id"]
                    else f"Any {levels.get(row['level_id'], '')} course")
        return sectors.get(row["sector_id"], ""), agencies.get(row["agency_id"], ""), training

    return names


def _claim(pending: TnaImport, status: str) -> None:
    """Move a pending import on, once: a second click (or a second tab) finds it already done."""
    result = db.session.execute(
        update(TnaImport).where(TnaImport.id == pending.id, TnaImport.status == PENDING)
        .values(status=status).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(pending)
        raise ReportsError("This import has already been applied or discarded.")
    db.session.refresh(pending)


def apply_import(pending: TnaImport, actor: User) -> TrainingNeedsAnalysis:
    """Apply every row of a checked import at once (a new analysis is created first if asked)."""
    if pending.uploaded_by_id != actor.id:
        raise ReportsError("Only the person who uploaded the file can apply it.")
    preview = preview_import(pending)
    _claim(pending, APPLIED)
    tna = pending.tna
    if tna is None:
        tna = create_tna(pending.new_name, pending.new_starts_on, pending.new_ends_on, actor)
        pending.tna = tna
    rows, existing, scopes = _plan(pending)
    now = utcnow()
    for row in rows:
        line = existing.get(row["key"])
        if line is None:
            line = TnaLine(tna=tna, sector_id=row["sector_id"], agency_id=row["agency_id"],
                           course_id=row["course_id"], level_id=row["level_id"], line_key=row["key"])
            db.session.add(line)
        line.staff_in_scope = row["staff_in_scope"]
        line.needed = row["needed"]
        line.updated_by_id = actor.id
        line.updated_at = now
    db.session.flush()
    for (sector_id, agency_id), staff in scopes.items():
        _set_scope(tna, sector_id, agency_id, staff, actor)
    pending.applied_at = now
    pending.added, pending.changed, pending.unchanged = preview.added, preview.changed, preview.unchanged
    tna.updated_at = now
    db.session.flush()
    return tna


def discard_import(pending: TnaImport, actor: User) -> None:
    """Throw away an uploaded file without changing the analysis."""
    if pending.uploaded_by_id != actor.id:
        raise ReportsError("Only the person who uploaded the file can discard it.")
    _claim(pending, DISCARDED)


def discard_stale_imports(older_than_days: int = 7) -> int:
    """Discard uploaded files nobody applied within a week (they hold the file's rows)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(
        update(TnaImport).where(TnaImport.status == PENDING, TnaImport.uploaded_at < cutoff)
        .values(status=DISCARDED, rows_json="[]").execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- Gaps: e-mail the coordinators of the agencies furthest behind ------------------------------

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
