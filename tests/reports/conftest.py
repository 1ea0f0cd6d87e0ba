"""The reports' own factories (completions, needs analyses), and one small fixed data set whose
figures are worked out by hand in the tests."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from app.accounts.models import User
from app.attendance.charges import charge_late_cancellation
from app.attendance.outcomes import record_outcome
from app.bookings.models import ATTENDED, CANCELLED, DID_NOT_ATTEND, PARTLY_ATTENDED, Completion
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Course
from app.extensions import db
from app.reports.models import TnaLine, TrainingNeedsAnalysis, line_key

NOW = datetime(2026, 10, 1, 9, 0)  # half-way through the 2026-27 financial year
YEAR_START, YEAR_END = date(2026, 4, 1), date(2027, 3, 31)


@pytest.fixture
def make_completion(app):
    def _make(person, course: Course, completed_on: date) -> Completion:
        completion = Completion(user=person, course=course, completed_on=completed_on, source="attendance")
        db.session.add(completion)
        db.session.flush()
        return completion

    return _make


@pytest.fixture
def make_tna(app):
    def _make(lines=(), name: str = "Needs 2026-27", starts_on: date = YEAR_START,
              ends_on: date = YEAR_END) -> TrainingNeedsAnalysis:
        tna = TrainingNeedsAnalysis(name=name, starts_on=starts_on, ends_on=ends_on)
        db.session.add(tna)
        for sector, agency, course, level, staff, needed in lines:
            tna.lines.append(TnaLine(
                sector_id=sector.id, agency_id=agency.id if agency else None,
                course_id=course.id if course else None, level_id=level.id if level else None,
                staff_in_scope=staff, needed=needed,
                line_key=line_key(sector.id, agency.id if agency else None,
                                  course.id if course else None, level.id if level else None)))
        db.session.flush()
        return tna

    return _make


@pytest.fixture
def dataset(app, set_now, make_agency, make_user, make_level, make_course, make_session, make_booking,
            make_completion, make_tna):
    """Two sectors, three agencies, three courses, a cancelled session, a walk-in, a no-show, a
    late cancellation, and Cat, who booked from the hospital trust and has since moved to the police."""
    set_now(NOW)
    pol_a = make_agency("Northbridge Police North", sector="Police")
    pol_b = make_agency("Northbridge Police South", sector="Police")
    trust = make_agency("St Brigid's Hospital", sector="Health - acute")
    police, health = pol_a.sector, trust.sector
    level3 = make_level("Level 3", position=3)
    l3 = make_course("Safeguarding Level 3", "L3", level3, refresher_months=36, charge_pence=5000)
    l3r = make_course("Level 3 Refresher", "L3R", level3, charge_pence=5000)
    scr = make_course("Serious Case Review workshop", "SCR", charge_pence=7500)

    person = {}
    password_hash = make_user(name="Template Person", agency=trust, email="template@example.org").password_hash
    for name, agency in [("Ann Achterberg", pol_a), ("Bob Bramwell", pol_a), ("Cat Castellane", pol_a),
                         ("Dan Dunmore", pol_b), ("Eve Eskdale", trust), ("Fay Fairweather", trust),
                         ("Gus Gorringe", pol_a), ("Hal Hollinshead", pol_b), ("Ivy Ilsley", pol_a),
                         ("Jon Jephcott", pol_a), ("Kim Kettlewell", trust), ("Leo Lindqvist", pol_b)]:
        # Created directly with one shared password hash: hashing a dozen passwords is slow.
        first = name.split()[0].lower()
        person[first] = User(name=name, email=f"{first}@example.org", agency=agency, job_title="Officer",
                             password_hash=password_hash, email_verified_at=NOW)
        db.session.add(person[first])
    db.session.flush()
    p = SimpleNamespace(**person)

    s0 = make_session(l3, datetime(2026, 3, 20, 9, 30))  # before the period
    s1 = make_session(l3, datetime(2026, 5, 10, 8, 30), capacity=4)
    s2 = make_session(scr, datetime(2026, 6, 15, 8, 30), capacity=4)
    s3 = make_session(l3, datetime(2026, 7, 1, 8, 30), status=SESSION_CANCELLED)
    s4 = make_session(l3r, datetime(2026, 11, 20, 9, 30), capacity=10)

    make_booking(s0, p.hal, outcome=ATTENDED)
    make_booking(s1, p.ann, outcome=ATTENDED)
    no_show = make_booking(s1, p.bob)
    record_outcome(no_show, DID_NOT_ATTEND, None, "register")  # raises the agency's charge
    make_booking(s1, p.cat, outcome=ATTENDED, agency=trust)  # booked while at the trust
    make_booking(s1, p.dan, outcome=ATTENDED, walk_in=True)
    charge_late_cancellation(make_booking(s1, p.eve, status=CANCELLED, late_cancellation=True))
    make_booking(s2, p.eve, outcome=ATTENDED)
    make_booking(s2, p.gus, outcome=PARTLY_ATTENDED)
    make_booking(s3, p.fay)  # the session was cancelled: left out everywhere
    make_booking(s4, p.fay)  # still to come

    make_completion(p.ivy, l3, date(2023, 6, 1))  # due 1 June 2026
    make_completion(p.jon, l3, date(2023, 5, 1))
    make_completion(p.jon, l3, date(2025, 5, 1))  # done again: due 2028
    make_completion(p.kim, l3, date(2023, 4, 15))  # due 15 April 2026
    make_completion(p.leo, l3, date(2022, 1, 1))  # due 2025: before the period

    tna = make_tna([
        (police, None, None, level3, 100, 10),
        (police, pol_a, None, level3, 60, 6),
        (health, None, None, level3, 50, 4),
        (police, None, scr, None, 100, 5),
        (health, None, scr, None, 50, 2),
    ])
    db.session.commit()
    return SimpleNamespace(pol_a=pol_a, pol_b=pol_b, trust=trust, police=police, health=health,
                           level3=level3, l3=l3, l3r=l3r, scr=scr, s0=s0, s1=s1, s2=s2, s3=s3, s4=s4,
                           tna=tna, p=p)
