"""Report pages, drill-downs and exports as administrators, reviewers and coordinators see them."""
import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from app.accounts.models import ADMIN, REVIEWER
from app.extensions import db
from app.reports.models import GapReminder, TnaImport, TnaLine, TrainingNeedsAnalysis
from tests.security import assert_security_headers

YEAR = {"start": "2026-04-01", "end": "2027-03-31"}
OTHER_AGENCY_NAMES = ["Cat Castellane", "Dan Dunmore", "Eve Eskdale", "Fay Fairweather", "Hal Hollinshead",
                      "Kim Kettlewell", "Leo Lindqvist"]


def _with_year(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "start=2026-04-01&end=2027-03-31"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def admin(dataset, make_user):
    return make_user(name="Adaeze Admin", roles=(ADMIN,), agency=dataset.trust)


def test_attendance_report_shows_sectors_furthest_behind_first_with_chart_and_links(dataset, admin, login_as):
    client = login_as(admin)
    page = _text(client.get("/reports/attendance", query_string=YEAR))
    assert page.index("Police: 20% of need met") < page.index("Health - acute: 33% of need met")
    assert '<svg class="app-chart" role="img"' in page and "<title" in page
    assert "Any Level 3 course: attended and booked against need" in page
    # The gap behind Police's Level 3 links to the people behind it.
    link = re.search(r'href="(/reports/people\?[^"]*measure=gap[^"]*sector=%d[^"]*)"' % dataset.police.id,
                     page.replace("&amp;", "&"))
    people = _text(client.get(link.group(1)))
    assert "Bob Bramwell" in people and "Ivy Ilsley" in people  # a no-show, a refresher due
    assert "Ann Achterberg" not in people  # attended: not part of the gap


def test_people_page_lists_attendees_with_the_agency_they_booked_from(dataset, admin, login_as):
    client = login_as(admin)
    page = _text(client.get("/reports/people", query_string=dict(
        YEAR, measure="attended", sector=dataset.health.id, level=dataset.level3.id)))
    assert "Cat Castellane" in page and "St Brigid&#39;s Hospital" in page
    assert "Ann Achterberg" not in page


def test_every_report_page_renders_for_each_role_that_may_see_it(dataset, admin, make_user, login_as, client):
    reviewer = make_user(name="Rhys Reviewer", roles=(REVIEWER,))
    coordinator = make_user(name="Colin North", agency=dataset.pol_a, roles=("coordinator",))
    learner = make_user(name="Lena Learner", agency=dataset.pol_a)
    paths = ["/reports", "/reports/attendance", "/reports/mix", "/reports/mix?only=all", "/reports/activity",
             "/reports/annual", "/reports/people?measure=attended", "/reports/attendance?print=1",
             "/reports/attendance.xlsx", "/reports/mix.csv", "/reports/activity.xlsx", "/reports/annual.csv"]
    for person in (admin, reviewer, coordinator):
        login_as(person)
        for path in paths:
            response = client.get(_with_year(path))
            assert response.status_code == 200, (person.name, path)
        client.post("/sign-out")
    login_as(learner)
    assert client.get("/reports/attendance").status_code == 403
    assert client.get("/reports/needs").status_code == 403


def test_a_coordinator_never_sees_people_of_another_agency(dataset, make_user, login_as):
    coordinator = make_user(name="Colin North", agency=dataset.pol_a, roles=("coordinator",))
    client = login_as(coordinator)
    measures = ["booked", "attended", "gap", "refresher", "bookings", "cancellations", "late_cancellations",
                "no_shows", "walk_ins", "taking_part", "chargeable", "not_attended"]
    pages = ["/reports/attendance", "/reports/mix?only=all", "/reports/activity", "/reports/annual"]
    pages += [f"/reports/people?measure={m}" for m in measures]
    pages += [f"/reports/people?measure=taking_part&session={s.id}" for s in (dataset.s1, dataset.s2, dataset.s4)]
    pages += [f"/reports/people?measure=attended&sector={dataset.health.id}"]
    exports = [f"/reports/{r}.{fmt}" for r in ("attendance", "mix", "activity", "annual") for fmt in ("csv", "xlsx")]
    exports += [f"/reports/people.{fmt}?measure={m}" for m in measures for fmt in ("csv", "xlsx")]
    seen_own = False
    for path in pages + exports:
        response = client.get(_with_year(path))
        assert response.status_code == 200, path
        if path.split("?")[0].endswith(".xlsx"):
            book = load_workbook(io.BytesIO(response.data))
            body = " ".join(str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c)
        else:
            body = response.get_data(as_text=True)
        for name in OTHER_AGENCY_NAMES + ["Northbridge Police South", "St Brigid"]:
            assert name not in body, (path, name)
        seen_own = seen_own or "Ann Achterberg" in body
    assert seen_own  # their own people are there
    # Asking for another agency's people outright is refused.
    assert client.get("/reports/people", query_string=dict(YEAR, measure="attended",
                                                          agency=dataset.trust.id)).status_code == 403
    assert client.get("/reports/needs").status_code == 403


def test_xlsx_export_reads_back_with_the_figures(dataset, admin, login_as):
    client = login_as(admin)
    response = client.get("/reports/attendance.xlsx", query_string=dict(YEAR, tna=dataset.tna.id))
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="attendance-2026-04-01-to-2027-03-31.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2] == ("Sector", "Agency", "Course or level", "Staff in scope", "Needed", "Booked", "Attended",
                       "Trained by their agency", "Gap", "% met", "Refreshers due")
    # "% met" is a fraction in a percentage cell (Excel shows 20%), not the number 20.
    assert ("Police", "Whole sector", "Any Level 3 course", 100, 10, 3, 2, 0, 8, 0.2, 1) in rows
    assert ("Health - acute", "Whole sector", "Serious Case Review workshop", 50, 2, 1, 1, 0, 1, 0.5, 0) in rows
    met = [row[9] for row in sheet.iter_rows(min_row=4) if row[9].value is not None]
    assert met and all(cell.number_format == "0%" for cell in met)
    csv_rows = list(csv.reader(io.StringIO(client.get(
        "/reports/attendance.csv", query_string=dict(YEAR, tna=dataset.tna.id)).data.decode("utf-8-sig"))))
    assert ["Police", "Whole sector", "Any Level 3 course", "100", "10", "3", "2", "0", "8", "20", "1"] in csv_rows

    annual = load_workbook(io.BytesIO(client.get("/reports/annual.xlsx", query_string=YEAR).data))
    events = list(annual["Attendees per event"].iter_rows(values_only=True))
    assert events[2] == ("Name of event", "Attendees to date")
    assert events[3:] == [("Safeguarding Level 3", 3), ("Serious Case Review workshop", 2), ("Total attendees", 5)]


def test_exports_carry_the_security_headers_and_are_never_stored(dataset, admin, login_as):
    client = login_as(admin)
    for path in ("/reports/attendance.xlsx", "/reports/attendance.csv", "/reports/people.xlsx?measure=attended"):
        response = client.get(_with_year(path))
        assert response.status_code == 200, path
        assert "attachment" in response.headers["Content-Disposition"], path
        assert_security_headers(response)


def test_csv_export_of_activity(dataset, admin, login_as):
    client = login_as(admin)
    data = client.get("/reports/activity.csv", query_string=YEAR).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert ["Northbridge Police North", "Police", "3", "2", "0", "0", "1", "0", "50.0"] in rows
    assert rows[-1][:8] == ["Total", "", "7", "5", "1", "1", "1", "1"]


def test_a_period_that_ends_before_it_starts_is_refused_without_figures(dataset, admin, login_as):
    client = login_as(admin)
    response = client.get("/reports/annual?start=1&start=4&start=2027&end=1&end=3&end=2026")
    page = _text(response)
    assert response.status_code == 200
    assert "The end date must be the same as or after the start date" in page
    assert "Attendees per event" not in page
    page = _text(client.get("/reports/annual?start=1&start=5&start=2026&end=31&end=5&end=2026"))
    assert "Safeguarding Level 3" in page and "Serious Case Review workshop" not in page
    assert "date" in _text(client.get("/reports/mix?start=not-a-date"))
    response = client.get("/reports/annual.csv?start=2027-01-01&end=2026-01-01")
    assert response.status_code == 302


def test_import_journey_preview_then_apply(dataset, admin, login_as):
    client = login_as(admin)
    template = client.get(f"/reports/needs/{dataset.tna.id}/template.csv").get_data(as_text=True)
    assert template.splitlines()[0] == "sector,agency,course_code,course_title,level,staff_in_scope,needed"
    assert "Police,,,,Level 3,100,10" in template
    body = "sector,agency,course_code,level,staff_in_scope,needed\nPolice,,SCR,,100,7\nHealth - acute,,L3R,,50,3\n"
    response = client.post(f"/reports/needs/{dataset.tna.id}/import",
                           data={"file": (io.BytesIO(body.encode()), "needs.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    preview = _text(client.get(response.headers["Location"]))
    assert "Check the import before it is applied" in preview
    assert re.search(r"Lines added </dt> <dd[^>]*> 1", preview) and re.search(r"Lines changed </dt> <dd[^>]*> 1", preview)
    assert db.session.scalar(db.select(TnaLine.needed).where(TnaLine.course_id == dataset.scr.id,
                                                              TnaLine.sector_id == dataset.police.id)) == 5
    pending = db.session.scalar(db.select(TnaImport))
    response = client.post(f"/reports/needs/imports/{pending.id}/apply")
    page = _text(client.get(response.headers["Location"]))
    assert "Imported: 1 added, 1 changed, 0 unchanged." in page
    assert "needs.csv: applied by Adaeze Admin" in page
    db.session.expire_all()
    assert db.session.scalar(db.select(TnaLine.needed).where(TnaLine.course_id == dataset.scr.id,
                                                              TnaLine.sector_id == dataset.police.id)) == 7


def test_template_defuses_typed_names_and_a_filled_in_copy_still_imports(dataset, admin, login_as):
    dataset.scr.title = "=HYPERLINK(\"http://evil.example\")"
    dataset.scr.code = "-SCR"
    db.session.commit()
    client = login_as(admin)
    template = client.get(f"/reports/needs/{dataset.tna.id}/template.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(template)))
    scr = next(r for r in rows if r[0] == "Police" and r[2].endswith("SCR"))
    assert scr[2:4] == ["'-SCR", "'=HYPERLINK(\"http://evil.example\")"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    # The administrator fills in the template and uploads it: the defused code still matches.
    scr[5:7] = ["100", "9"]
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], scr])
    response = client.post(f"/reports/needs/{dataset.tna.id}/import",
                           data={"file": (io.BytesIO(out.getvalue().encode()), "needs.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, _text(response)


def test_import_with_bad_rows_lists_them_by_line(dataset, admin, login_as):
    client = login_as(admin)
    body = "sector,agency,course_code,level,staff_in_scope,needed\nPolice,,SCR,,100,7\nPolise,,SCR,,100,x\n"
    response = client.post(f"/reports/needs/{dataset.tna.id}/import",
                           data={"file": (io.BytesIO(body.encode()), "needs.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = _text(response)
    assert "The file has 1 problem." in page
    assert re.search(r">\s*3\s*</td>\s*<td[^>]*>\s*unknown sector “Polise”; Needed “x” is not a whole number", page)
    assert db.session.scalar(db.select(db.func.count()).select_from(TnaImport)) == 0


def test_new_analysis_form_refuses_a_backwards_period_and_creates_a_good_one(dataset, admin, login_as):
    client = login_as(admin)
    data = {"name": "Next year", "starts_on": ["1", "4", "2027"], "ends_on": ["31", "3", "2028"]}
    response = client.post("/reports/needs/new", data={**data, "ends_on": ["1", "3", "2027"]})
    assert "The period must end on or after the day it starts." in _text(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(TrainingNeedsAnalysis)) == 1
    response = client.post("/reports/needs/new", data=data)
    assert response.status_code == 302
    tna = db.session.scalar(db.select(TrainingNeedsAnalysis).where(TrainingNeedsAnalysis.name == "Next year"))
    response = client.post(f"/reports/needs/{tna.id}/lines/new", data={
        "sector_id": dataset.police.id, "agency_id": dataset.pol_a.id, "course_id": dataset.scr.id, "level_id": 0,
        "staff_in_scope": "60", "needed": "70"})
    assert "The number who need it (70) is more than the staff in scope (60)." in _text(response)
    response = client.post(f"/reports/needs/{tna.id}/lines/new", data={
        "sector_id": dataset.health.id, "agency_id": dataset.pol_a.id, "course_id": dataset.scr.id,
        "level_id": 0, "staff_in_scope": "60", "needed": "6"})
    assert "Northbridge Police North is in the Police sector, not Health - acute." in _text(response)
    response = client.post(f"/reports/needs/{tna.id}/lines/new", data={
        "sector_id": dataset.police.id, "agency_id": dataset.pol_a.id, "course_id": dataset.scr.id,
        "level_id": 0, "staff_in_scope": "60", "needed": "6"})
    assert response.status_code == 302
    assert [(l.agency_id, l.needed) for l in tna.lines] == [(dataset.pol_a.id, 6)]


def test_gap_email_page_sends_once_and_shows_when_last_sent(dataset, admin, make_user, make_session,
                                                           login_as, mailbox, deliver):
    make_user(name="Colin North", email="colin@example.org", agency=dataset.pol_a, roles=("coordinator",))
    make_session(dataset.l3, datetime(2026, 12, 3, 9, 30))
    db.session.commit()
    client = login_as(admin)
    url = (f"/reports/gaps/email?tna={dataset.tna.id}&sector={dataset.police.id}&level={dataset.level3.id}"
           f"&start=2026-04-01&end=2027-03-31")
    page = _text(client.get(url))
    assert "Northbridge Police North" in page and "Never" in page and "3 December 2026" in page
    response = client.post(url, data={"agencies": [dataset.pol_a.id]}, follow_redirects=True)
    assert "E-mailed the coordinators of Northbridge Police North." in _text(response)
    response = client.post(url, data={"agencies": [dataset.pol_a.id]}, follow_redirects=True)
    assert "Not sent again this week to Northbridge Police North" in _text(response)
    north = re.search(r"Northbridge Police North</th>(.*?)</tr>", _text(client.get(url))).group(1)
    assert "1 October 2026, 10:00am" in north and "Never" not in north
    assert db.session.scalar(db.select(db.func.count()).select_from(GapReminder)) == 1
    deliver()
    assert len(mailbox.to("colin@example.org")) == 1
    response = client.post(url, data={})
    assert "Choose at least one agency to e-mail" in _text(response)


def test_report_pages_work_before_there_is_any_data(app, make_user, login_as):
    client = login_as(make_user(name="Adaeze Admin", roles=(ADMIN,)))
    page = _text(client.get("/reports/attendance"))
    assert "There is no training needs analysis yet" in page
    for path in ("/reports", "/reports/mix", "/reports/activity", "/reports/annual", "/reports/needs",
                 "/reports/needs/new", "/reports/people?measure=gap", "/reports/annual.xlsx", "/reports/mix.csv"):
        assert client.get(path).status_code == 200, path
    assert "Evaluation figures (response rate and the shift in confidence) appear here once evaluations exist" \
        in _text(client.get("/reports/annual"))
    assert client.get("/reports/needs/99").status_code == 404
    assert client.get("/reports/attendance.xlsx").status_code == 404  # nothing to compare with
    assert client.get("/reports/people?measure=nonsense").status_code == 404
    assert client.get("/reports/people?measure=attended&course=999").status_code == 404
