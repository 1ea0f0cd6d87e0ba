"""Single-agency training in the reports: it counts against the training needs analysis where its
level (or equivalent course) matches, without counting anyone twice, and has a line of its own in
the annual report, withheld beyond the L&D team when it is about fewer than 5 people."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.attendance.models import SingleAgencyAttendee, SingleAgencyTraining
from app.bookings.models import ATTENDED
from app.extensions import db
from app.filters import Period, Viewer
from app.reports import published
from app.reports.figures import annual_report, need_report
from app.small_numbers import is_hidden
from tests.reports.conftest import YEAR_END, YEAR_START

PERIOD = Period(YEAR_START, YEAR_END)


def _training(agency, level, people=(), others=0, course=None, held_on=date(2026, 6, 1)):
    training = SingleAgencyTraining(agency=agency, title="Own training", level=level, course=course,
                                    held_on=held_on, hours=Decimal("3"), others_count=others,
                                    attendees=[SingleAgencyAttendee(user=p) for p in people])
    db.session.add(training)
    db.session.flush()
    return training


def test_it_counts_against_the_need_at_its_level_once_per_person(app, set_now, make_agency, make_attendee,
                                                                 make_level, make_course, make_session,
                                                                 make_booking, make_tna):
    set_now(datetime(2026, 10, 1, 9, 0))
    homes = make_agency("Northbridge Homes", sector="Housing")
    level3, level1 = make_level("Level 3"), make_level("Level 1")
    course = make_course("Safeguarding Level 3", code="L3", level=level3)
    a, b, c = (make_attendee(agency=homes) for _ in range(3))
    make_booking(make_session(course, datetime(2026, 5, 5, 9, 30)), a, outcome=ATTENDED)
    _training(homes, level3, people=[a, b], others=2)  # a attended the partnership's course already
    _training(homes, level1, people=[c], others=9)  # another level: not this line
    _training(homes, level3, people=[c], held_on=date(2025, 6, 1))  # before the period
    tna = make_tna([(homes.sector, None, None, level3, 40, 10), (homes.sector, homes, course, None, 40, 10)])

    report = need_report(tna, PERIOD, Viewer(None))
    level_row = next(r for r in report.rows if r.level_id == level3.id and r.agency_id is None)
    assert (level_row.attended, level_row.single_agency, level_row.trained, level_row.gap) == (1, 3, 4, 6)
    assert level_row.percent_met == 40
    # A course line counts only training equivalent to that course.
    course_row = next(r for r in report.rows if r.course_id == course.id)
    assert (course_row.attended, course_row.single_agency) == (1, 0)
    _training(homes, level3, people=[b], course=course)
    course_row = next(r for r in need_report(tna, PERIOD, Viewer(None)).rows if r.course_id == course.id)
    assert (course_row.attended, course_row.single_agency, course_row.gap) == (1, 1, 8)

    # Beyond the L&D team, a small figure is withheld, and the gap and % met with it.
    shown = published.need(need_report(tna, PERIOD, Viewer(None)))
    level_row = next(r for r in shown.rows if r.level_id == level3.id and r.agency_id is None)
    assert is_hidden(level_row.single_agency) and is_hidden(level_row.gap) and is_hidden(level_row.percent_met)


def test_the_annual_report_has_a_line_of_its_own(app, set_now, make_agency, make_attendee, make_level):
    set_now(datetime(2026, 10, 1, 9, 0))
    homes, police = make_agency("Northbridge Homes", sector="Housing"), make_agency("Police", sector="Police")
    level3 = make_level("Level 3")
    _training(homes, level3, people=[make_attendee(agency=homes)], others=6)
    _training(police, level3, others=2)
    _training(police, level3, others=50, held_on=date(2027, 4, 1))  # after the period
    report = annual_report(PERIOD, Viewer(None))
    assert (report.single_agency_trainings, report.single_agency_attendances) == (2, 9)
    assert report.total == 0, "not mixed into the multi-agency attendances"
    mine = annual_report(PERIOD, Viewer(frozenset({police.id})))
    assert (mine.single_agency_trainings, mine.single_agency_attendances) == (1, 2)
    assert is_hidden(published.annual(mine).single_agency_attendances)
    assert published.annual(report).single_agency_attendances == 9
