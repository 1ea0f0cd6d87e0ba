"""Bad input gets a page that says what is wrong (or is not found), never a 500 (issue 11)."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.accounts.models import ADMIN, COORDINATOR, REVIEWER, User
from app.bookings.models import Completion
from app.courses.models import Course, Level, Venue
from app.extensions import db
from app.reports.models import TnaLine, TrainingNeedsAnalysis

HUGE = str(2**70)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def course(app):
    level = Level(name="Level 3", intercollegiate_level="Level 3 core")
    course = Course(code="L3", title="Safeguarding Level 3", level=level, duration_hours=Decimal("6"))
    online = Course(code="ONLINE", title="Online basics", level=level, duration_hours=Decimal("1"),
                    is_online=True)
    db.session.add_all([course, online])
    db.session.commit()
    return course


@pytest.fixture
def admin(make_user):
    return make_user(name="Adaeze Admin", roles=(ADMIN,))


# --- Ids and numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [HUGE, str(2**63)])
def test_an_id_no_database_holds_is_not_found(client, login_as, admin, number):
    assert client.get(f"/sessions/{number}").status_code == 404
    login_as(admin)
    assert client.get(f"/registers/{number}").status_code == 404
    assert client.post(f"/admin/sessions/{number}", data={"capacity": "3"}).status_code == 404
    assert client.get(f"/reports/needs/{number}/template.csv").status_code == 404


def test_a_page_number_no_database_holds_shows_an_empty_page(client, login_as, admin):
    login_as(admin)
    for path in ("/admin/outbox", "/admin/people", "/admin/sessions", "/registers", "/charges"):
        response = client.get(path, query_string={"page": HUGE})
        assert response.status_code == 200, path


def test_a_filter_id_no_database_holds_is_not_found_even_for_a_download(client, login_as, make_user):
    login_as(make_user(roles=(REVIEWER,)))
    assert client.get("/evaluation/review", query_string={"session_id": HUGE}).status_code == 404
    # Refused before the 200: the download does not start and then break off.
    response = client.get("/evaluation/review/answers.csv", query_string={"session_id": HUGE})
    assert response.status_code == 404
    assert client.get("/reports/people", query_string={"sector": HUGE}).status_code == 404


def test_digits_that_are_not_ascii_are_not_read_as_numbers(client):
    for value in ("\u00b2", "\u0661\u0662"):  # a superscript two; Arabic-Indic twelve
        assert client.get("/programme", query_string={"level": value, "page": value}).status_code == 200


def test_a_number_the_database_cannot_hold_is_refused_beside_its_field(client, login_as, admin, make_sector,
                                                                     course):
    sector = make_sector("Police")
    tna = TrainingNeedsAnalysis(name="Needs", starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    db.session.add(tna)
    db.session.commit()
    level = db.session.scalar(select(Level))
    login_as(admin)
    response = client.post(f"/reports/needs/{tna.id}/lines/new", data={
        "sector_id": sector.id, "agency_id": 0, "course_id": 0, "level_id": level.id,
        "staff_in_scope": HUGE, "needed": "1"})
    assert response.status_code == 200
    assert "Staff in scope must be a number of 2,147,483,647 or less" in _text(response)
    assert db.session.scalar(select(func.count()).select_from(TnaLine)) == 0


# --- Dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("parts", [["27", "3"], ["27", "3", "2026", "1"]])
def test_a_date_with_missing_or_extra_parts_gets_the_form_back(client, login_as, make_user, course, parts):
    login_as(make_user())
    online = db.session.scalar(select(Course).where(Course.code == "ONLINE"))
    response = client.post("/my-training/online", data={"course_id": online.id, "completed_on": parts})
    page = _text(response)
    assert response.status_code == 200
    assert "Enter a day, month and year, for example 27 3 2027" in page
    assert len(re.findall(r'name="completed_on"', page)) == 3, "the three boxes are shown again"
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0


def test_a_year_outside_what_we_hold_is_refused_with_a_plain_message(client, login_as, make_user, course):
    login_as(make_user())
    online = db.session.scalar(select(Course).where(Course.code == "ONLINE"))
    response = client.post("/my-training/online",
                           data={"course_id": online.id, "completed_on": ["1", "1", "9999"]})
    assert "Enter a year from 1900 to 2200" in _text(response)
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 0


def test_a_session_date_with_a_huge_year_gets_the_form_back(client, login_as, admin, course):
    login_as(admin)
    response = client.post(f"/admin/courses/{course.id}/sessions/new", data={
        "parts-0-date": ["1", "1", HUGE], "parts-0-starts_at": "9:30", "parts-0-ends_at": "16:30",
        "capacity": "20", "reservation_release_days": "7"})
    assert response.status_code == 200
    assert "Enter a real date, for example 27 3 2027" in _text(response)


def test_a_filter_date_without_its_day_is_pointed_out_not_ignored(client, login_as, make_user):
    login_as(make_user(roles=(REVIEWER,)))
    response = client.get("/evaluation/review?date_from=&date_from=3&date_from=2026&date_to=&date_to=&date_to=")
    assert response.status_code == 200
    assert "Enter a day, month and year, for example 27 3 2027" in _text(response)


def test_report_periods_with_missing_parts_or_far_years_get_the_form_back(client, login_as, admin):
    login_as(admin)
    response = client.get("/reports/annual?start=1&start=4&start=2026&end=31&end=3")
    assert response.status_code == 200
    assert "Enter a day, month and year" in _text(response)
    for query in ("start=2026-04-01&end=9999-12-31", "start=0001-01-01&end=2027-03-31"):
        response = client.get(f"/reports/activity?{query}")
        assert response.status_code == 200
        assert "Enter the date the period" in _text(response)


def test_an_agency_period_ending_in_year_9999_is_refused(client, login_as, make_user, make_agency):
    agency = make_agency("Riverside Trust")
    login_as(make_user(roles=(COORDINATOR,), coordinates=agency, agency=agency))
    for path in ("/agency", "/agency/charges", "/agency/bookings.csv"):
        response = client.get(path, query_string={"start": "2026-04-01", "end": "9999-12-31"})
        assert response.status_code == 200, path
    assert "Enter a year from 1900 to 2200" in _text(client.get("/agency?end=9999-12-31"))


# --- Text -----------------------------------------------------------------------------------------

def test_a_name_with_a_line_break_is_refused(client, make_agency):
    school = make_agency("Hillcrest Primary School", "Education - schools")
    response = client.post("/register", data={
        "name": "Amara Okafor\r\nBcc: everyone@example.org", "email": "amara@example.org",
        "job_title": "Teacher", "agency_id": school.id, "line_manager_name": "Ben Head",
        "line_manager_email": "ben@example.org", "password": "a long password here",
        "password_again": "a long password here"})
    assert response.status_code == 200
    assert "Full name cannot contain line breaks, tabs or other hidden characters" in _text(response)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_nul_in_a_multi_line_field_is_refused_but_line_breaks_are_kept(client, login_as, admin):
    login_as(admin)
    response = client.post("/admin/venues/new", data={"name": "Civic Centre",
                                                     "address": "1 Town Hall Square\x00"})
    assert response.status_code == 200
    assert "Address cannot contain hidden control characters" in _text(response)
    assert db.session.scalar(select(func.count()).select_from(Venue)) == 0
    response = client.post("/admin/venues/new", data={"name": "Civic Centre",
                                                     "address": "1 Town Hall Square\r\nNorthbridge"})
    assert response.status_code == 302
    assert db.session.scalar(select(Venue.address)) == "1 Town Hall Square\r\nNorthbridge"


def test_a_nul_in_the_address_is_a_bad_request(client):
    assert client.get("/programme?q=a%00b").status_code == 400
    assert client.get("/courses/L3%00").status_code == 400
    assert client.get("/programme?q=%zz%ff").status_code == 200


def test_the_agency_page_asks_for_dates_as_every_other_page_does(client, login_as, make_user, make_agency):
    agency = make_agency("Riverside Trust")
    login_as(make_user(roles=(COORDINATOR,), coordinates=agency, agency=agency))
    page = _text(client.get("/agency", query_string={"start": "2026-04-01", "end": "2027-03-31"}))
    # GOV.UK's day, month and year boxes, filled from the link's dates, not a browser date picker.
    assert 'type="date"' not in page
    assert page.count('class="govuk-date-input"') == 2
    assert page.count('name="start"') == 3 and page.count('name="end"') == 3
    boxes = dict(re.findall(r'id="((?:start|end)-(?:day|month|year))"[^>]*value="([0-9]*)"', page))
    assert boxes == {"start-day": "01", "start-month": "04", "start-year": "2026",
                     "end-day": "31", "end-month": "03", "end-year": "2027"}, boxes
