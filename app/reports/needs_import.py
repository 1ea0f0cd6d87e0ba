"""Import a training needs analysis from CSV: the template, reading and checking the file, a preview, then
applying it all at once (or discarding it)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, update

from app.accounts.models import Agency, Sector, User
from app.clock import utcnow
from app.courses.models import Course, Level
from app.exports import csv_text, restore_defused
from app.extensions import db
from app.inputs import DB_INT_MAX
from app.reports.errors import ImportRefused, ReportsError
from app.reports.models import (
    APPLIED,
    DISCARDED,
    PENDING,
    TnaImport,
    TnaLine,
    TrainingNeedsAnalysis,
    line_key,
)
from app.reports.needs import check_name, check_period, create_tna, set_scope

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
CSV_COLUMNS = ["sector", "agency", "course_code", "course_title", "level", "staff_in_scope", "needed"]
REQUIRED_COLUMNS = ["sector", "agency", "course_code", "level", "staff_in_scope", "needed"]

ADDED = "added"
CHANGED = "changed"
UNCHANGED = "unchanged"


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
        name = check_name(name)
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
        set_scope(tna, sector_id, agency_id, staff, actor)
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
