"""Single-agency training: what an agency ran for its own staff, recorded by its coordinator (one
at a time, or many from a CSV or XLSX file checked before anything is saved).

A coordinator records training only for the agencies they coordinate (the L&D team for any).
Attendees with an account are named by their work e-mail address and must belong to the agency;
people without an account are a count. It counts in the attendees' training records and against
the training needs analysis where its level (or the course it is equivalent to) matches.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.accounts.models import ACTIVE, ADMIN, Agency, User
from app.attendance.errors import AttendanceError
from app.attendance.models import SingleAgencyAttendee, SingleAgencyTraining
from app.clock import today_london, utcnow
from app.courses.models import Course, Level
from app.extensions import db
from app.forms import has_control_characters

MAX_HOURS = Decimal("100")
MAX_OTHERS = 1000
MAX_ROWS = 500
EARLIEST = date(2000, 1, 1)
UPLOAD_COLUMNS = ("title", "date", "hours", "level", "equivalent course code", "delivered by",
                  "attendee e-mails", "others attending")


@dataclass
class TrainingDetails:
    """What a coordinator enters about one piece of single-agency training."""

    title: str
    held_on: date | None
    hours: Decimal | None
    level: Level | None = None
    course: Course | None = None
    delivered_by: str = ""
    attendee_emails: list[str] = field(default_factory=list)
    others_count: int = 0


def may_record_for(actor: User, agency: Agency) -> bool:
    """True when `actor` may record and see single-agency training of `agency`."""
    return actor.has_role(ADMIN) or agency.id in actor.coordinated_agency_ids


def split_emails(text: str) -> list[str]:
    """E-mail addresses separated by new lines, commas, semicolons or spaces, lower-cased, once each."""
    seen: list[str] = []
    for address in re.split(r"[\s,;]+", text or ""):
        address = address.strip().lower()
        if address and address not in seen:
            seen.append(address)
    return seen


def _attendees(agency: Agency, emails: list[str]) -> tuple[list[User], list[str]]:
    """The agency's active staff with these addresses, and a problem for each address that is not one."""
    people = {u.email.lower(): u for u in db.session.scalars(
        select(User).where(func.lower(User.email).in_(emails)))} if emails else {}
    problems = []
    for address in emails:
        person = people.get(address)
        if person is None:
            problems.append(f"Nobody has an account with the address {address}: leave them out and "
                            "add them to the number without an account")
        elif person.agency_id != agency.id or person.status != ACTIVE:
            problems.append(f"{address} is not an active member of staff of {agency.name}")
    return [people[a] for a in emails if a in people and not problems], problems


def check_training(agency: Agency, details: TrainingDetails, actor: User) -> list[tuple[str, str]]:
    """Every problem with the details, as (field, message); none when they may be recorded."""
    problems: list[tuple[str, str]] = []
    if not may_record_for(actor, agency):
        problems.append(("agency_id", f"You do not coordinate {agency.name}"))
    if not agency.active:
        problems.append(("agency_id", f"{agency.name} is no longer in use"))
    title = (details.title or "").strip()
    if not title:
        problems.append(("title", "Enter the title of the training"))
    elif len(title) > 200:
        problems.append(("title", "The title must be 200 characters or fewer"))
    elif has_control_characters(title):
        problems.append(("title", "The title cannot contain line breaks, tabs or other hidden characters"))
    if details.held_on is None:
        problems.append(("held_on", "Enter the date the training was held"))
    elif details.held_on > today_london():
        problems.append(("held_on", "The date must be today or in the past: record training once it has happened"))
    elif details.held_on < EARLIEST:
        problems.append(("held_on", f"The date must be on or after {EARLIEST:%-d %B %Y}"))
    if details.hours is None or not details.hours.is_finite():
        problems.append(("hours", "Enter the hours of training, for example 3 or 2.5"))
    elif not Decimal("0") < details.hours <= MAX_HOURS or details.hours != details.hours.quantize(Decimal("0.01")):
        problems.append(("hours", f"The hours must be more than 0 and at most {MAX_HOURS}, to 2 decimal places"))
    if len((details.delivered_by or "").strip()) > 200:
        problems.append(("delivered_by", "Who delivered it must be 200 characters or fewer"))
    elif has_control_characters((details.delivered_by or "").strip()):
        problems.append(("delivered_by", "Who delivered it cannot contain line breaks, tabs or other hidden characters"))
    if details.level is None and details.course is None:
        problems.append(("level_id", "Choose the level of the training, or the course it is equivalent to"))
    if details.course is not None and details.level is not None and details.course.level_id not in (None, details.level.id):
        problems.append(("level_id", f"{details.course.title} is at {details.course.level.name}: choose that "
                                     "level, or no equivalent course"))
    if not 0 <= details.others_count <= MAX_OTHERS:
        problems.append(("others_count", f"The number without an account must be between 0 and {MAX_OTHERS}"))
    _, attendee_problems = _attendees(agency, details.attendee_emails)
    problems += [("attendee_emails", p) for p in attendee_problems]
    if not details.attendee_emails and details.others_count == 0:
        problems.append(("attendee_emails", "Name at least one person who attended, or give the number "
                                            "without an account"))
    return problems


def record_single_agency_training(agency: Agency, details: TrainingDetails, actor: User) -> SingleAgencyTraining:
    """Record training an agency ran for its own staff."""
    problems = check_training(agency, details, actor)
    if problems:
        raise AttendanceError(problems[0][1], problems[0][0], problems)
    people, _ = _attendees(agency, details.attendee_emails)
    training = SingleAgencyTraining(
        agency=agency, title=details.title.strip(), held_on=details.held_on, hours=details.hours,
        course=details.course, level=details.level or (details.course.level if details.course else None),
        delivered_by=(details.delivered_by or "").strip(), others_count=details.others_count,
        recorded_by_id=actor.id, recorded_at=utcnow(), updated_at=utcnow(),
        attendees=[SingleAgencyAttendee(user=p) for p in people],
    )
    db.session.add(training)
    db.session.flush()
    return training


def delete_single_agency_training(training: SingleAgencyTraining, actor: User) -> None:
    """Remove a record made in error (its agency's coordinators or the L&D team)."""
    if not may_record_for(actor, training.agency):
        raise AttendanceError(f"You do not coordinate {training.agency.name}")
    db.session.delete(training)
    db.session.flush()


# --- Uploads ------------------------------------------------------------------------------------

@dataclass
class UploadRow:
    """One row of an upload: its line number, what it says as entered, and its problems."""

    line: int
    values: dict[str, str]
    problems: list[str] = field(default_factory=list)


def _cell_text(value) -> str:
    """A workbook cell as the text a CSV would hold (a date as 2027-03-31, 3.0 as 3)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cells_from_xlsx(data: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise AttendanceError("The file is not an XLSX workbook: save it again as XLSX or CSV", "file") from exc
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append([_cell_text(v) for v in row])
        if len(rows) > MAX_ROWS + 1:
            break
    return rows


def _cells_from_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel on Windows saves CSV in its code page
    return list(csv.reader(io.StringIO(text, newline="")))


def read_upload(data: bytes, filename: str) -> list[dict[str, str]]:
    """The rows of an uploaded CSV or XLSX file as {column: text}, blank rows left out."""
    if not data:
        raise AttendanceError("Choose a CSV or XLSX file to upload", "file")
    cells = _cells_from_xlsx(data) if filename.lower().endswith(".xlsx") else _cells_from_csv(data)
    if not cells:
        raise AttendanceError("The file is empty", "file")
    header = [h.strip().lower() for h in cells[0]]
    missing = [c for c in UPLOAD_COLUMNS if c not in header]
    if missing:
        raise AttendanceError("The first row must name the columns; missing: " + ", ".join(missing), "file")
    rows = [{c: (r[header.index(c)] if header.index(c) < len(r) else "").strip() for c in UPLOAD_COLUMNS}
            for r in cells[1:]]
    rows = [r for r in rows if any(r.values())]
    if not rows:
        raise AttendanceError("The file has no rows of training under its headings", "file")
    if len(rows) > MAX_ROWS:
        raise AttendanceError(f"A file can hold at most {MAX_ROWS} rows: split it into smaller files", "file")
    return rows


def _parse_date(text: str) -> date | None:
    for pattern in (r"(\d{4})-(\d{1,2})-(\d{1,2})", r"(\d{1,2})/(\d{1,2})/(\d{4})"):
        found = re.fullmatch(pattern, text.strip())
        if found:
            parts = [int(p) for p in found.groups()]
            year, month, day = parts if pattern.startswith(r"(\d{4})") else (parts[2], parts[1], parts[0])
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def details_from_row(values: dict[str, str]) -> tuple[TrainingDetails, list[str]]:
    """A row of an upload as training details, with the problems reading it (before the rules')."""
    problems = []
    held_on = _parse_date(values["date"])
    if values["date"] and held_on is None:
        problems.append(f"The date “{values['date'][:20]}” is not a date like 2027-03-31 or 31/03/2027")
    hours = None
    if values["hours"]:
        try:
            hours = Decimal(values["hours"])
        except InvalidOperation:
            problems.append(f"The hours “{values['hours'][:20]}” are not a number")
    level = None
    if values["level"]:
        level = db.session.scalar(select(Level).where(func.lower(Level.name) == values["level"].lower()))
        if level is None:
            problems.append(f"There is no level called “{values['level'][:50]}”")
    course = None
    if values["equivalent course code"]:
        course = db.session.scalar(select(Course).where(
            func.lower(Course.code) == values["equivalent course code"].lower()))
        if course is None:
            problems.append(f"There is no course with the code “{values['equivalent course code'][:30]}”")
    others = 0
    if values["others attending"]:
        if values["others attending"].isdigit():
            others = int(values["others attending"])
        else:
            problems.append(f"Others attending “{values['others attending'][:20]}” is not a whole number")
    details = TrainingDetails(
        title=values["title"], held_on=held_on, hours=hours, level=level, course=course,
        delivered_by=values["delivered by"], attendee_emails=split_emails(values["attendee e-mails"]),
        others_count=others,
    )
    return details, problems


def check_upload(agency: Agency, rows: list[dict[str, str]], actor: User) -> list[UploadRow]:
    """Check every row of an upload for `agency` as if it were recorded; nothing is saved."""
    checked = []
    for index, values in enumerate(rows, start=2):  # line 1 holds the headings
        details, problems = details_from_row(values)
        problems += [message for _, message in check_training(agency, details, actor)
                     if not (message.startswith("Enter the date") and any("date" in p for p in problems))
                     and not (message.startswith("Enter the hours") and any("hours" in p for p in problems))]
        checked.append(UploadRow(index, values, problems))
    return checked


def apply_upload(agency: Agency, rows: list[dict[str, str]], actor: User) -> list[SingleAgencyTraining]:
    """Record every row of a checked upload, or none if any row has a problem now."""
    checked = check_upload(agency, rows, actor)
    bad = [row for row in checked if row.problems]
    if bad:
        raise AttendanceError(f"Line {bad[0].line}: {bad[0].problems[0]}. Nothing was recorded; "
                              "correct the file and upload it again", "file")
    return [record_single_agency_training(agency, details_from_row(values)[0], actor) for values in rows]
