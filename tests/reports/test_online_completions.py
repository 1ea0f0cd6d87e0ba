"""Online courses completed (recorded by people or imported from the e-learning provider) count
where attendance counts: attendance against need, the people behind it, the annual report's
"introductory online" line, and the coordinator's page.

Beside the reports' hand-worked data set: a Level 1 online course, completed by Ann and Bob
(Northbridge Police North) and Dan (South, twice); Ann also attended a face-to-face Level 1
session. Hal's learning done elsewhere waits for its check, and Ivy's completion is from before
the period: neither counts.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from app.bookings.models import ATTENDED, E_LEARNING_IMPORT, PRIOR_LEARNING, SELF_RECORDED, Completion
from app.extensions import db
from app.filters import Period, Viewer
from app.reports import figures, published
from app.reports.models import TnaLine, line_key
from app.small_numbers import Hidden
from tests.reports.conftest import YEAR_END, YEAR_START

YEAR = Period(YEAR_START, YEAR_END)
YEAR_ARGS = {"start": "2026-04-01", "end": "2027-03-31"}
ALL = Viewer(None)


@pytest.fixture
def online(dataset, make_level, make_course, make_session, make_booking):
    level1 = make_level("Level 1", position=1)
    course = make_course("Introductory online safeguarding", "EL1", level1, is_online=True)
    room = make_course("Safeguarding Level 1 in person", "L1F", level1)
    make_booking(make_session(room, datetime(2026, 6, 3, 8, 30)), dataset.p.ann, outcome=ATTENDED)
    p = dataset.p
    for person, day, source in [(p.ann, date(2026, 6, 1), E_LEARNING_IMPORT),
                                (p.bob, date(2026, 7, 1), SELF_RECORDED),
                                (p.dan, date(2026, 8, 1), E_LEARNING_IMPORT),
                                (p.dan, date(2026, 9, 1), E_LEARNING_IMPORT),
                                (p.hal, date(2026, 8, 1), PRIOR_LEARNING),
                                (p.ivy, date(2026, 3, 1), E_LEARNING_IMPORT)]:
        db.session.add(Completion(user=person, course=course, completed_on=day, source=source))
    for agency, level, course_id, staff, needed in [(None, level1.id, None, 100, 10),
                                                    (dataset.pol_a, None, course.id, 60, 5)]:
        dataset.tna.lines.append(TnaLine(
            sector_id=dataset.police.id, agency_id=agency.id if agency else None, course_id=course_id,
            level_id=level, staff_in_scope=staff, needed=needed,
            line_key=line_key(dataset.police.id, agency.id if agency else None, course_id, level)))
    db.session.commit()
    dataset.level1, dataset.online_course = level1, course
    return dataset


def _row(report, training, agency=""):
    return next(r for r in report.rows if r.sector == "Police" and r.training == training and r.agency == agency)


def test_online_completions_count_as_attended_against_need(online):
    report = figures.need_report(online.tna, YEAR, ALL)
    level1 = _row(report, "Any Level 1 course")
    # Ann (in person and online, once), Bob and Dan (twice online, once).
    assert (level1.booked, level1.attended, level1.gap, level1.percent_met) == (3, 3, 7, 30)
    north = _row(report, "Introductory online safeguarding", "Northbridge Police North")
    assert (north.booked, north.attended, north.gap) == (2, 2, 3)
    coordinator = figures.need_report(online.tna, YEAR, Viewer(frozenset({online.pol_b.id})))
    assert [(r.training, r.attended) for r in coordinator.rows
            if r.training == "Any Level 1 course"] == [("Any Level 1 course", 1)]
    behind = {a.agency.name: a.attended for a in figures.agencies_behind(
        online.tna, YEAR, online.police.id, None, online.level1.id)}
    assert behind == {"Northbridge Police North": 2, "Northbridge Police South": 1}


def test_the_annual_report_gains_the_introductory_online_line(online):
    report = figures.annual_report(YEAR, ALL)
    assert [(title, n) for _, title, n in report.online] == [("Introductory online safeguarding", 4)]
    assert report.online_total == 4
    assert report.total == 6  # face-to-face attendees: the five before and Ann's Level 1 session
    shown = published.annual(report)
    assert isinstance(shown.online_total, Hidden) and isinstance(shown.online[0][2], Hidden)
    north = figures.annual_report(YEAR, Viewer(frozenset({online.pol_a.id})))
    assert north.online_total == 2


def test_the_annual_page_and_export_show_it(online, make_user, login_as):
    client = login_as(make_user(roles=("admin",)))
    page = re.sub(r"\s+", " ", client.get("/reports/annual", query_string=YEAR_ARGS).get_data(as_text=True))
    assert "Introductory online" in page
    assert re.search(r"Introductory online safeguarding</th> <td[^>]*><a [^>]*measure=online[^>]*>"
                     r"<span aria-hidden=\"true\">4</span>", page)
    csv_text = client.get("/reports/annual.csv", query_string=YEAR_ARGS).get_data(as_text=True)
    assert "Introductory online (total),4" in csv_text
    people = client.get("/reports/people", query_string=dict(YEAR_ARGS, measure="online")).get_data(as_text=True)
    assert "Ann Achterberg" in people and "Dan Dunmore" in people and "Ivy Ilsley" not in people


def test_the_people_behind_attended_include_online_completions(online, make_user, login_as):
    client = login_as(make_user(roles=("admin",)))
    args = dict(YEAR_ARGS, measure="attended", sector=online.police.id, level=online.level1.id)
    page = client.get("/reports/people", query_string=args).get_data(as_text=True)
    assert "Online courses completed (4)" in page and "Bob Bramwell" in page
    assert "Hal Hollinshead" not in page


def test_the_coordinator_sees_their_staff_online_completions(online, make_user, login_as):
    client = login_as(make_user(name="Colin North", agency=online.pol_a, roles=("coordinator",)))
    page = client.get("/agency", query_string={"start": "2026-04-01", "end": "2027-03-31"}).get_data(as_text=True)
    section = page[page.index("Online courses completed</h2>"):page.index("Refreshers due or overdue</h2>")]
    assert "Ann Achterberg" in section and "Bob Bramwell" in section and "Dan Dunmore" not in section
    assert "2 online courses completed" in page
