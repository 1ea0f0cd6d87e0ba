"""Every report in the catalogue, page and export, sends the same number of SQL statements for a
few agencies, sessions and recommendations as for many: the database groups the figures, nothing
is read one row at a time (issue 13)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.accounts.models import ADMIN, User
from app.bookings.models import ATTENDED, CANCELLED, DID_NOT_ATTEND
from app.courses.models import SERIOUS_CASE_REVIEW, Level
from app.courses.recommendations import SourceDetails, add_recommendation, create_source, link_training
from app.extensions import db
from app.reports.catalogue import LISTED
from app.reports.models import TnaLine, TrainingNeedsAnalysis, line_key
from tests.statements import statements_of_get

NOW = datetime(2026, 10, 1, 9, 0)


@pytest.fixture
def programme(app, set_now, make_user, make_agency, make_attendee, make_level, make_course, make_session,
              make_booking, make_completion, make_tna):
    """programme.add(n): n more agencies, each in a sector of its own with a course, a session in
    the year (one attended, one no-show, one late cancellation, a refresher due), a serious case
    review recommendation answered by the course, and needs lines for the sector and the agency."""
    set_now(NOW)
    admin = make_user(name="Adaeze Admin", roles=(ADMIN,))
    ids = {"admin": admin.id, "tna": make_tna().id, "level": make_level("Level 3", position=3).id}
    made = []

    def add(n: int) -> None:
        # Read afresh: counting a page's statements empties the session.
        admin = db.session.get(User, ids["admin"])
        tna = db.session.get(TrainingNeedsAnalysis, ids["tna"])
        level = db.session.get(Level, ids["level"])
        for _ in range(n):
            i = len(made) + 1
            agency = make_agency(f"Partner Agency {i}", sector=f"Partner Sector {i}")
            course = make_course(f"Course {i}", level=level, refresher_months=36, charge_pence=5000)
            session = make_session(course, datetime(2026, 5, 1, 9, 0) + timedelta(days=i))
            attended = make_booking(session, make_attendee(agency=agency), outcome=ATTENDED)
            make_booking(session, make_attendee(agency=agency), outcome=DID_NOT_ATTEND)
            make_booking(session, make_attendee(agency=agency), status=CANCELLED, late_cancellation=True)
            make_completion(attended.user, course, date(2023, 6, 1))
            source = create_source(SourceDetails(SERIOUS_CASE_REVIEW, f"Child {i}", date(2026, 2, 1)), admin)
            link_training(add_recommendation(source, 1, f"Recommendation {i}.", admin), [course], [], admin)
            for line_agency, line_course, line_level in ((None, None, level), (agency, course, None)):
                tna.lines.append(TnaLine(
                    sector_id=agency.sector_id, agency_id=line_agency.id if line_agency else None,
                    course_id=line_course.id if line_course else None,
                    level_id=line_level.id if line_level else None, staff_in_scope=50, needed=10,
                    line_key=line_key(agency.sector_id, line_agency.id if line_agency else None,
                                      line_course.id if line_course else None,
                                      line_level.id if line_level else None)))
            made.append(agency)
        db.session.commit()

    return admin, ids["tna"], add


@pytest.mark.parametrize("suffix", ["", ".csv"])
@pytest.mark.parametrize("slug", [report.slug for report in LISTED])
def test_a_report_sends_as_many_statements_for_many_agencies_as_for_few(programme, login_as, slug, suffix):
    admin, tna_id, add = programme
    client = login_as(admin)
    path = f"/reports/{slug}{suffix}?start=2026-04-01&end=2027-03-31&tna={tna_id}"
    add(1)
    few = statements_of_get(client, path)
    add(4)
    many = statements_of_get(client, path)
    assert len(few) == len(many), "\n\n".join(many)
