"""Printable PDFs: the sign-in sheet, the certificate of attendance and the training record.

fpdf2 draws them with DejaVu Sans and, for what DejaVu lacks or draws poorly, the fallback fonts of
app.fonts (Noto for Arabic, Hebrew, Chinese, Japanese, Korean and symbols; Noto Color Emoji), with
HarfBuzz shaping the text: Arabic letters join, and Arabic and Hebrew run right to left. A fallback
font is read and embedded (as a subset) only when a document uses it.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import current_app
from fpdf import FPDF
from fpdf.fonts import FontFace

from app import fonts
from app.accounts.models import User
from app.attendance.dates import session_days
from app.attendance.register import booking_agency
from app.bookings.models import Booking
from app.clock import to_london
from app.courses.models import Session

FONT = fonts.MAIN.name
HEADINGS = FontFace(emphasis="BOLD", fill_color=(243, 242, 241))


def _hours(value: Decimal | None) -> str:
    value = value or Decimal("0")
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} hour" + ("" if value == 1 else "s")


def _date(day: date) -> str:
    return f"{day:%-d %B %Y}"


def days_text(days: list[date]) -> str:
    """'3 March 2027' or '3, 10 and 17 March 2027' or '28 February and 3 March 2027'."""
    if not days:
        return ""
    if len(days) == 1:
        return _date(days[0])
    parts = [f"{d:%-d %B %Y}" for d in days]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _times(session: Session) -> list[str]:
    if session.parts:
        return [
            f"{to_london(p.starts_at):%A %-d %B %Y}, {to_london(p.starts_at):%H:%M} to {to_london(p.ends_at):%H:%M}"
            for p in session.parts
        ]
    if session.starts_at:
        return [f"{to_london(session.starts_at):%A %-d %B %Y, %H:%M}"]
    return []


def _venue(session: Session) -> str:
    if session.venue:
        address = " ".join(session.venue.address.split())
        return session.venue.name + (f", {address}" if address else "")
    return "Online" if session.online_url else "Venue to be confirmed"


class _Document(FPDF):
    def __init__(self, orientation: str = "portrait", footer_text: str = ""):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        for style in ("", "B"):
            self.add_font(FONT, style, str(fonts.MAIN.face(style).check().path),
                          unicode_range=sorted(fonts.main_characters(style)))
        self._fallbacks: list[str] = []
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(12, 12, 12)
        self.set_font(FONT, size=10)
        self.set_creator(current_app.config["SERVICE_NAME"])
        self.set_author(current_app.config["PARTNERSHIP_NAME"])

    def normalize_text(self, text: str) -> str:
        # fpdf2 passes every text through here before measuring or drawing it. Shaping (HarfBuzz:
        # joined Arabic, right-to-left runs, emoji sequences, fallback fonts) makes plain Latin
        # text slower and its PDF larger, so it is switched on only for the texts that need it.
        text = fonts.printable(text)
        shape = fonts.needs_shaping(text)
        if shape != bool(self.text_shaping):
            self.set_text_shaping(shape)
        return super().normalize_text(text)

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        # Fallback fonts are added on first use, so a Latin-only document never reads them.
        family = fonts.fallback_for(char, style)
        if family is None:
            return None
        key = f"{family.name.lower()}{style}"
        if key not in self.fonts:
            face = family.face(style)
            self.add_font(family.name, style, str(face.path), collection_font_number=face.index)
            if family.name not in self._fallbacks:
                self._fallbacks.append(family.name)
            self.set_fallback_fonts(self._fallbacks)
        return key

    def footer(self):
        if not self.footer_text:
            return
        self.set_y(-11)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()} of {{nb}}", align="C")

    def heading(self, text: str, size: int = 16) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=10)

    def line_of(self, label: str, value: str) -> None:
        self.set_font(FONT, "B", 10)
        self.cell(32, 6, label)
        self.set_font(FONT, size=10)
        self.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")

    def bytes(self) -> bytes:
        return bytes(self.output())


def _listing(orientation: str, kind: str, subject: str) -> _Document:
    """Start a document headed with the partnership's name and "<kind>: <subject>"."""
    partnership = current_app.config["PARTNERSHIP_NAME"]
    pdf = _Document(orientation, footer_text=f"{partnership} · {kind} · {subject}")
    pdf.set_title(f"{kind}: {subject}")
    pdf.add_page()
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 5, partnership, new_x="LMARGIN", new_y="NEXT")
    pdf.heading(f"{kind}: {subject}")
    pdf.ln(1)
    return pdf


def sign_in_sheet(session: Session, bookings: list[Booking], blank_rows: int = 8) -> bytes:
    """The register to print: one row per person (by surname) and rows for walk-ins."""
    course = session.course
    pdf = _listing("landscape", "Sign-in sheet", course.title)
    for index, when in enumerate(_times(session)):
        pdf.line_of("Date" if index == 0 else "", when)
    pdf.line_of("Venue", _venue(session))
    if session.trainers or session.external_trainers:
        names = [t.name for t in session.trainers] + (
            [session.external_trainers] if session.external_trainers else [])
        pdf.line_of("Trainers", ", ".join(names))
    pdf.line_of("Places", f"{len(bookings)} booked. Please sign in the box beside your name.")
    pdf.ln(2)
    # The e-mail column is for walk-ins to write in: the sheet goes round the room, so booked
    # people's addresses (which the register already holds) are not printed on it.
    widths = (8, 40, 42, 26, 30, 33, 50, 44)
    headings = ("", "Name", "Agency", "Sector", "Job title", "Access or dietary needs",
                "Work e-mail (walk-ins)", "Signature")
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=widths, line_height=5, padding=1.5, text_align="LEFT",
                   headings_style=HEADINGS, repeat_headings=1) as table:
        row = table.row()
        for text in headings:
            row.cell(text)
        for number, booking in enumerate(bookings, start=1):
            agency = booking_agency(booking)
            person = booking.user
            row = table.row()
            row.cell(str(number))
            row.cell(person.name + (" (walk-in)" if booking.walk_in else ""))
            row.cell(agency.name if agency else "")
            row.cell(agency.sector.name if agency and agency.sector else "")
            row.cell(person.job_title or "")
            row.cell(booking.access_needs or "")
            row.cell("")
            row.cell("\n\n")  # the signature box is tall enough to sign in
        for number in range(len(bookings) + 1, len(bookings) + blank_rows + 1):
            row = table.row()
            row.cell(str(number))
            for _ in range(6):
                row.cell("")
            row.cell("\n\n")
    pdf.ln(3)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, "Walk-ins: please write your name, agency, job title and work e-mail "
                   "address in a blank row; the trainer adds you to the register.")
    return pdf.bytes()


def certificate(booking: Booking, code: str, verify_url: str) -> bytes:
    """A certificate of attendance: person, course, level, dates, hours, partnership and code."""
    partnership = current_app.config["PARTNERSHIP_NAME"]
    session = booking.session
    course = session.course
    pdf = _Document("landscape")
    pdf.set_title(f"Certificate of attendance: {course.title}")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)
    pdf.set_y(28)
    pdf.set_font(FONT, size=14)
    pdf.cell(0, 8, partnership, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "B", 30)
    pdf.cell(0, 14, "Certificate of attendance", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, size=13)
    pdf.cell(0, 8, "This is to certify that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 24)
    pdf.multi_cell(0, 12, booking.user.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=13)
    pdf.cell(0, 8, "attended", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(0, 10, course.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, size=12)
    details = [days_text(session_days(session)), _hours(course.duration_hours)]
    if course.level:
        details.insert(0, course.level.name)
    pdf.multi_cell(0, 7, " · ".join(details), align="C", new_x="LMARGIN", new_y="NEXT")
    if session.venue:
        pdf.multi_cell(0, 7, session.venue.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(pdf.h - 42)
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, f"Verification code: {code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Check this certificate at {verify_url}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Issued by the learning and development team of {partnership}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    return pdf.bytes()


def training_record(person: User, rows: list, total_hours: Decimal, today: date) -> bytes:
    """A person's training record for an appraisal or an audit."""
    pdf = _listing("portrait", "Training record", person.name)
    if person.job_title:
        pdf.line_of("Job title", person.job_title)
    if person.agency:
        pdf.line_of("Agency", person.agency.name)
    pdf.line_of("Printed", _date(today))
    pdf.line_of("Total", f"{len(rows)} courses, {_hours(total_hours)}")
    pdf.ln(3)
    if not rows:
        pdf.multi_cell(0, 6, "No training recorded yet.")
        return pdf.bytes()
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=(62, 24, 26, 18, 24, 32), line_height=5, padding=1.5,
                   text_align="LEFT", headings_style=HEADINGS, repeat_headings=1) as table:
        row = table.row()
        for text in ("Course", "Level", "Completed", "Hours", "How", "Refresher due"):
            row.cell(text)
        for r in rows:
            row = table.row()
            row.cell(r.course.title)
            row.cell(r.level)
            row.cell(_date(r.completed_on))
            row.cell(f"{r.hours:.2f}".rstrip("0").rstrip("."))
            row.cell(r.source_label)
            due = _date(r.refresher_due) if r.refresher_due else "Not needed"
            if r.refresher_state:
                due += f" ({r.refresher_state})"
            row.cell(due)
    return pdf.bytes()
