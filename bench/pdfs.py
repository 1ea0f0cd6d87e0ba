"""Bench: how big and how slow the sign-in sheet is, for Latin-only names and for names in many scripts.

    python -m bench.pdfs              # 24 people, 20 runs each
    python -m bench.pdfs --runs 5

It draws the sign-in sheet of a session of unsaved objects (no database) twice over: once with
24 Latin-only names, once with the same number of names in Latin, Greek, Cyrillic, Chinese,
Japanese, Korean, Arabic, Hebrew and with an emoji. It prints the size of the PDF, the median and
slowest processor time to draw it (after one warm-up; processor time rather than the clock, as the
machine may be shared) and the fonts embedded. It asserts nothing.
"""
from __future__ import annotations

import argparse
import io
import re
import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal

LATIN = ["Zoë Ábrahams", "Amir Young", "Paul Constable", "Siobhán Ní Bhriain", "Tomasz Wójcik",
         "Grace O'Neill", "Ian Fairweather", "Chloé Dubois"]
MIXED = ["Zoë Ó Súilleabháin", "Γιώργος Παπαδόπουλος", "Анна Смирнова", "王秀英", "山田 花子",
         "김민준", "محمد عبد الله", "שרה כהן", "Priya Shah 🌻"]


def _session(names: list[str], people: int):
    from app.accounts.models import Agency, Sector, User
    from app.bookings.models import CONFIRMED, Booking
    from app.courses.models import Course, Session, SessionPart, Venue

    sector = Sector(name="Education - schools")
    agency = Agency(name="Hillcrest Primary School", sector=sector)
    course = Course(code="L3", title="Safeguarding Level 3", duration_hours=Decimal("6"))
    session = Session(course=course, capacity=people, venue=Venue(name="Northbridge Civic Centre",
                                                                    address="1 High Street"))
    start = datetime(2027, 3, 3, 9, 30)
    session.parts = [SessionPart(starts_at=start, ends_at=start + timedelta(hours=6))]
    session.starts_at, session.ends_at = start, start + timedelta(hours=6)
    bookings = [Booking(session=session, status=CONFIRMED, agency=agency, walk_in=False,
                        user=User(name=names[n % len(names)], email=f"p{n}@example.org",
                                  job_title="Teacher", agency=agency))
                for n in range(people)]
    return session, bookings


def _fonts(data: bytes) -> list[str]:
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/BaseFont" in font:
                names.add(re.sub(r"^[A-Z]{6}\+", "", str(font["/BaseFont"]).lstrip("/")))
            else:
                names.add(f"{font['/Subtype'].lstrip('/')} (colour glyphs)")
    return sorted(names)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pdfs", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=24, help="people on the register (default 24)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each sheet (default 20)")
    args = parser.parse_args(argv)

    from app import create_app
    from app.attendance.pdfs import sign_in_sheet
    from config import TestConfig

    with create_app(TestConfig).app_context():
        for label, names in (("Latin-only", LATIN), ("mixed scripts", MIXED)):
            session, bookings = _session(names, args.people)
            data = sign_in_sheet(session, bookings)  # warm-up: fonts parsed once per process
            times = []
            for _ in range(args.runs):
                began = time.process_time()
                data = sign_in_sheet(session, bookings)
                times.append(time.process_time() - began)
            print(f"{label:14} {len(data) / 1024:7.1f} KiB   median {statistics.median(times) * 1000:6.1f} ms"
                  f"   slowest {max(times) * 1000:6.1f} ms   fonts: {', '.join(_fonts(data))}")


if __name__ == "__main__":
    main()
