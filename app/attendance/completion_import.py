"""Import an e-learning provider's completions: read the export (CSV or XLSX), preview what it
would record, then record it all at once.

The rules, for the L&D team's pages and for any other caller (the JSON API):

    preview_completions(rows: list[dict], actor: User, agency: Agency | None = None) -> CompletionImport
    apply_completions(rows: list[dict], actor: User, agency: Agency | None = None) -> CompletionImport

Each row is a plain dict with the keys name, email, course, completed_on and score (score may be
missing or empty; completed_on is a date or text such as 2026-03-27 or 27/03/2026; course is an
online course's code or title). Both return a CompletionImport whose `rows` say, for each row by
its `line` (the dict's "line" if given, else its position counting from 1):

- matched: the e-mail address (any case) is an account here: the completion is recorded for it;
- new: no account uses the address but its domain is an agency's: an account is opened for the
  person in that agency (as a walk-in's is, with no password: they set one with "Forgotten your
  password?") and the completion recorded for it;
- unmatched: the address's domain is no agency's, the account is closed, the course is not an
  online course here, or (with `agency`) the person is not in that agency: nothing is recorded,
  and `reason` says why, so the caller can report them back;
- duplicate: the person already has this course on that date, or the file repeats an earlier row.

A row that cannot be read (no e-mail address or course, a date that is not a date or is in the
future, a score outside 0 to 100) refuses the whole file: CompletionRowsRefused lists each by line.
`apply_completions` adds and flushes everything or raises before changing anything; the caller
commits once (all or nothing). `agency` narrows both to one agency's people (a coordinator's).
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select, update

from app.accounts.addresses import check_not_generic, normalise_email
from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.models import ACTIVE, PENDING_APPROVAL, Agency, AgencyDomain, User
from app.attendance.errors import AttendanceError
from app.attendance.models import (
    UPLOAD_APPLIED,
    UPLOAD_DISCARDED,
    UPLOAD_PENDING,
    CompletionUpload,
)
from app.bookings.models import E_LEARNING_IMPORT, Completion
from app.clock import today_london, utcnow
from app.courses.models import Course
from app.exports import restore_defused
from app.extensions import db

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ("name", "email", "course", "completed_on", "score")
REQUIRED_COLUMNS = ("email", "course", "completed_on")
# Headings providers use for the same columns, as read after lower-casing and trimming.
HEADING_ALIASES = {
    "e-mail": "email", "email address": "email", "e-mail address": "email", "learner email": "email",
    "full name": "name", "learner": "name", "learner name": "name",
    "course code": "course", "course title": "course", "course name": "course", "module": "course",
    "completed on": "completed_on", "completed": "completed_on", "completion date": "completed_on",
    "date completed": "completed_on", "score (%)": "score", "score %": "score", "result": "score",
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y",
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
EARLIEST = date(2000, 1, 1)
XLSX_MAGIC = b"PK\x03\x04"
# An XLSX is a zip: refuse one that unpacks to more than this before openpyxl reads any of it.
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024

MATCHED = "matched"
NEW = "new"
UNMATCHED = "unmatched"
DUPLICATE = "duplicate"
# The line in a new account's history (its "registered" event) that says where it came from.
OPENED_FROM_EXPORT = "From an e-learning provider’s completions"
KIND_LABELS = {MATCHED: "Matched", NEW: "New account", UNMATCHED: "Unmatched", DUPLICATE: "Duplicate"}


class CompletionRowsRefused(AttendanceError):
    """A file (or rows) that cannot be read; `lines` lists (line number, reason)."""

    def __init__(self, lines: list[tuple[int, str]]):
        super().__init__(f"The file has {len(lines)} problem{'s' if len(lines) != 1 else ''}.", "file")
        self.lines = lines


# --- Reading a file -------------------------------------------------------------------------------

def _heading(text: object) -> str:
    name = " ".join(str(text or "").strip().lower().split())
    name = HEADING_ALIASES.get(name, name)
    return name.replace(" ", "_")


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (date, int, float)):
        return value
    # Text a spreadsheet export defused (a leading ' before = + - @) is read back as typed.
    return restore_defused(str(value if value is not None else "").strip())


def _records(headings: list[object], lines) -> list[dict]:
    names = [_heading(h) for h in headings]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise CompletionRowsRefused([(1, "The first row must name the columns (name, email, course, "
                                        "completed_on, score); missing: " + ", ".join(missing) + ".")])
    rows = []
    for number, values in lines:
        if len(rows) >= MAX_ROWS:
            raise CompletionRowsRefused([(number, f"The file has more than {MAX_ROWS} rows; split it.")])
        record = {name: _cell(value) for name, value in zip(names, values) if name in COLUMNS}
        if not any(v not in ("", None) for v in record.values()):
            continue
        record["line"] = number
        rows.append(record)
    if not rows:
        raise CompletionRowsRefused([(1, "The file has no rows under its headings.")])
    return rows


def _read_csv(data: bytes) -> list[dict]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in its own code page.
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise CompletionRowsRefused([(1, "The file is not a CSV or XLSX file.")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headings = next(reader, [])

        def lines():
            for values in reader:
                yield reader.line_num, values

        return _records(headings, lines())
    except csv.Error as exc:
        raise CompletionRowsRefused([(reader.line_num, f"The CSV file cannot be read ({exc}).")]) from exc


def _read_xlsx(data: bytes) -> list[dict]:
    try:
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CompletionRowsRefused([(1, "The XLSX file cannot be read: save it again from "
                                         "Excel, or as CSV.")]) from exc
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise CompletionRowsRefused([(1, "The XLSX file is too large once unpacked: save it as CSV.")])
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged upload raises whatever openpyxl meets first
        raise CompletionRowsRefused([(1, "The XLSX file cannot be read: save it again from "
                                         "Excel, or as CSV.")]) from exc
    try:
        sheet = book.worksheets[0]
        # Only the first columns matter; reading no further keeps a huge sheet cheap.
        found = sheet.iter_rows(max_col=len(COLUMNS) + 10, values_only=True)
        headings = list(next(found, ()) or ())

        def lines():
            for number, values in enumerate(found, start=2):
                yield number, values

        return _records(headings, lines())
    finally:
        book.close()


def read_completions_file(data: bytes) -> list[dict]:
    """Read an uploaded CSV or XLSX export into rows (dicts by column, with their line number)."""
    if not data or not data.strip():
        raise CompletionRowsRefused([(1, "The file is empty.")])
    if len(data) > MAX_FILE_BYTES:
        raise CompletionRowsRefused([(1, "The file is larger than 2 MB: split it.")])
    return _read_xlsx(data) if data.startswith(XLSX_MAGIC) else _read_csv(data)


# --- Checking the rows ------------------------------------------------------------------------------

def _date(value: object) -> tuple[date | None, str | None]:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        found = value
    else:
        text = str(value or "").strip()
        if not text:
            return None, "no completion date"
        found = None
        for pattern in DATE_FORMATS:
            try:
                found = datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
        if found is None:
            return None, f"completion date “{text[:30]}” is not a date (use 27/03/2026 or 2026-03-27)"
    if found > today_london():
        return None, f"completion date {found:%d/%m/%Y} is in the future"
    if found < EARLIEST:
        return None, f"completion date {found:%d/%m/%Y} is before 2000"
    return found, None


def _score(value: object) -> tuple[int | None, str | None]:
    if value is None or isinstance(value, bool):
        return None, None
    text = str(value).strip().rstrip("%").strip()
    if not text:
        return None, None
    try:
        number = round(float(text))
    except (ValueError, OverflowError):
        return None, f"score “{str(value)[:20]}” is not a number"
    if not 0 <= number <= 100:
        return None, f"score {number} is not between 0 and 100"
    return number, None


@dataclass
class ImportRow:
    line: int
    name: str
    email: str
    course_text: str
    completed_on: date | None
    score: int | None
    kind: str = UNMATCHED
    reason: str = ""
    person_id: int | None = None
    agency_id: int | None = None
    course_id: int | None = None
    course_title: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class CompletionImport:
    rows: list[ImportRow] = field(default_factory=list)
    agency_names: dict[int, str] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r.kind == kind)

    @property
    def matched(self) -> int:
        return self.count(MATCHED)

    @property
    def new(self) -> int:
        return self.count(NEW)

    @property
    def unmatched(self) -> int:
        return self.count(UNMATCHED)

    @property
    def duplicates(self) -> int:
        return self.count(DUPLICATE)

    @property
    def to_record(self) -> int:
        return self.matched + self.new

    def of_kind(self, kind: str) -> list[ImportRow]:
        return [r for r in self.rows if r.kind == kind]


def _text(value: object, limit: int) -> str:
    return " ".join(str(value if value is not None else "").split())[:limit]


def _online_courses() -> dict[str, Course]:
    """Online courses by lower-cased code and title (a code wins over another course's title)."""
    courses = db.session.scalars(select(Course).where(Course.is_online.is_(True)).order_by(Course.id)).all()
    found = {c.title.strip().lower(): c for c in courses}
    found.update({c.code.strip().lower(): c for c in courses})
    return found


def _agency_domains() -> list[tuple[str, int]]:
    return [(domain, agency_id) for domain, agency_id in db.session.execute(
        select(AgencyDomain.domain, AgencyDomain.agency_id).join(Agency, Agency.id == AgencyDomain.agency_id)
        .where(Agency.active.is_(True)))]


def _agency_for(address: str, domains: list[tuple[str, int]]) -> int | None:
    """The agency whose domain (or a parent of it) the address is on; the most specific wins."""
    host = address.rsplit("@", 1)[1]
    fits = [(len(d), agency_id) for d, agency_id in domains if host == d or host.endswith("." + d)]
    return max(fits)[1] if fits else None


def _checked(rows: list[dict]) -> list[ImportRow]:
    """Each row read and checked for form; refuse them all if any cannot be read."""
    if len(rows) > MAX_ROWS:
        raise CompletionRowsRefused([(MAX_ROWS + 1, f"More than {MAX_ROWS} rows: split them.")])
    if not rows:
        raise CompletionRowsRefused([(1, "There are no rows to import.")])
    problems: list[tuple[int, str]] = []
    checked = []
    for position, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            problems.append((position, "each row must be a set of named values"))
            continue
        line = raw.get("line") if isinstance(raw.get("line"), int) else position
        reasons = []
        email = _text(raw.get("email"), 255)
        if not email:
            reasons.append("no e-mail address")
        else:
            try:
                email = normalise_email(email)
            except AccountError:
                reasons.append(f"“{email[:60]}” is not an e-mail address")
        course_text = _text(raw.get("course"), 200)
        if not course_text:
            reasons.append("no course")
        completed_on, why = _date(raw.get("completed_on"))
        if why:
            reasons.append(why)
        score, why = _score(raw.get("score"))
        if why:
            reasons.append(why)
        if reasons:
            problems.append((line, "; ".join(reasons)))
            continue
        checked.append(ImportRow(line=line, name=_text(raw.get("name"), 200), email=email,
                                 course_text=course_text, completed_on=completed_on, score=score))
    if problems:
        raise CompletionRowsRefused(problems)
    return checked


def preview_completions(rows: list[dict], actor: User, agency: Agency | None = None) -> CompletionImport:
    """What importing the rows would record: each row matched, new, unmatched or a duplicate."""
    checked = _checked(rows)
    courses = _online_courses()
    domains = _agency_domains()
    emails = {r.email for r in checked}
    people: dict[str, User] = {}
    for chunk in range(0, len(emails), 500):
        part = sorted(emails)[chunk:chunk + 500]
        for person in db.session.scalars(select(User).where(func.lower(User.email).in_(part))):
            people[person.email.lower()] = person
    person_ids = [p.id for p in people.values()]
    recorded: set[tuple[int, int, date]] = set()
    for chunk in range(0, len(person_ids), 500):
        recorded.update((user_id, course_id, day) for user_id, course_id, day in db.session.execute(
            select(Completion.user_id, Completion.course_id, Completion.completed_on)
            .where(Completion.user_id.in_(person_ids[chunk:chunk + 500]))))
    seen: dict[tuple[str, int, date], int] = {}
    result = CompletionImport()
    for row in checked:
        result.rows.append(row)
        course = courses.get(row.course_text.lower())
        if course is None:
            row.reason = f"“{row.course_text}” is not an online course here"
            continue
        row.course_id, row.course_title = course.id, course.title
        key = (row.email, course.id, row.completed_on)
        if key in seen:
            row.kind, row.reason = DUPLICATE, f"repeats line {seen[key]}"
            continue
        seen[key] = row.line
        person = people.get(row.email)
        if person is not None:
            row.person_id, row.agency_id = person.id, person.agency_id
            if person.status not in (ACTIVE, PENDING_APPROVAL):
                row.reason = "the account is closed"
            elif agency is not None and person.agency_id != agency.id:
                row.reason = f"not in {agency.name}"
            elif (person.id, course.id, row.completed_on) in recorded:
                row.kind, row.reason = DUPLICATE, "already recorded"
            else:
                row.kind = MATCHED
            continue
        row.agency_id = _agency_for(row.email, domains)
        if row.agency_id is None:
            row.reason = "no account, and the address is not on an agency’s domain"
        elif agency is not None and row.agency_id != agency.id:
            row.reason = f"not in {agency.name}"
        elif not row.name:
            row.reason = "no account, and no name to open one with"
        else:
            try:
                check_not_generic(row.email)
            except AccountError:
                row.reason = "a shared mailbox, not one person"
            else:
                row.kind = NEW
    agency_ids = {r.agency_id for r in result.rows if r.agency_id}
    result.agency_names = dict(db.session.execute(
        select(Agency.id, Agency.name).where(Agency.id.in_(list(agency_ids) or [-1]))).all())
    return result


def apply_completions(rows: list[dict], actor: User, agency: Agency | None = None) -> CompletionImport:
    """Record every matched and new row (opening accounts for the new) at once; report the rest."""
    result = preview_completions(rows, actor, agency)
    if not result.to_record:
        raise AttendanceError("Nothing to record: every row is unmatched or already recorded.")
    now = utcnow()
    opened: dict[str, User] = {}
    for row in result.rows:
        if row.kind == NEW:
            person = opened.get(row.email)
            if person is None:
                person = User(name=row.name, email=row.email, agency_id=row.agency_id, status=ACTIVE,
                              created_at=now)
                db.session.add(person)
                db.session.flush()
                record_event(person, actor, "registered", OPENED_FROM_EXPORT)
                opened[row.email] = person
            row.person_id = person.id
        if row.kind in (MATCHED, NEW):
            db.session.add(Completion(
                user_id=row.person_id, course_id=row.course_id, completed_on=row.completed_on,
                source=E_LEARNING_IMPORT, score=row.score, checked_by_id=actor.id, checked_at=now,
                evidence="E-learning provider’s export", created_at=now))
    db.session.flush()
    return result


# --- A file held between its preview and applying it -------------------------------------------------

def _stored(rows: list[dict]) -> str:
    # Unescaped, so erasure and subject access find a name with accents in it as written.
    return json.dumps([{k: v.isoformat() if isinstance(v, date) else v for k, v in r.items()} for r in rows],
                      ensure_ascii=False)


def upload_completions(data: bytes, filename: str, actor: User) -> CompletionUpload:
    """Read and check an uploaded export and keep its rows, to be previewed and applied."""
    rows = read_completions_file(data)
    _checked(rows)
    upload = CompletionUpload(filename=(filename or "upload")[:255], rows_json=_stored(rows),
                              uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(upload)
    db.session.flush()
    return upload


def upload_rows(upload: CompletionUpload) -> list[dict]:
    return json.loads(upload.rows_json or "[]")


def _claim(upload: CompletionUpload, actor: User, status: str) -> None:
    """Move a waiting file on, once: a second click (or a second tab) finds it already done."""
    if upload.uploaded_by_id != actor.id:
        raise AttendanceError("Only the person who uploaded the file can apply or discard it.")
    done = db.session.execute(
        update(CompletionUpload)
        .where(CompletionUpload.id == upload.id, CompletionUpload.status == UPLOAD_PENDING)
        .values(status=status).execution_options(synchronize_session=False)
    )
    db.session.refresh(upload)
    if done.rowcount != 1:
        raise AttendanceError("This file has already been applied or discarded.")


def apply_upload(upload: CompletionUpload, actor: User) -> CompletionImport:
    """Record an uploaded file's completions (as the preview showed them, checked again now)."""
    rows = upload_rows(upload)
    _claim(upload, actor, UPLOAD_APPLIED)
    result = apply_completions(rows, actor)
    upload.applied_at = utcnow()
    upload.recorded = result.to_record
    upload.accounts_opened = len({r.email for r in result.of_kind(NEW)})
    upload.skipped = result.unmatched + result.duplicates
    upload.rows_json = "[]"
    db.session.flush()
    return result


def discard_upload(upload: CompletionUpload, actor: User) -> None:
    """Throw an uploaded file away without recording anything."""
    _claim(upload, actor, UPLOAD_DISCARDED)
    upload.rows_json = "[]"
    db.session.flush()


def discard_stale_uploads(older_than_days: int = 7) -> int:
    """Discard files nobody applied within a week (they hold names and e-mail addresses)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(
        update(CompletionUpload)
        .where(CompletionUpload.status == UPLOAD_PENDING, CompletionUpload.uploaded_at < cutoff)
        .values(status=UPLOAD_DISCARDED, rows_json="[]").execution_options(synchronize_session=False)
    )
    return result.rowcount
