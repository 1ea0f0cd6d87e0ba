"""Single-agency training: coordinators record what their agency ran for its own staff, one at a time
or from a CSV or XLSX file checked before anything is saved; it shows in the attendees' training
records; a coordinator acts only for their own agency."""
from __future__ import annotations

import io
import re
import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.access_log import AccessLogEntry
from app.attendance.errors import AttendanceError
from app.attendance.models import SingleAgencyAttendee, SingleAgencyTraining
from app.attendance.single_agency import UPLOAD_COLUMNS, TrainingDetails, check_upload, record_single_agency_training
from app.extensions import db
from tests.security import page_without_nonce

NOW = datetime(2027, 3, 10, 12, 0)
HEADER = "title,date,hours,level,equivalent course code,delivered by,attendee e-mails,others attending\n"


@pytest.fixture
def world(app, set_now, make_agency, make_user, make_level, make_course):
    set_now(NOW)
    housing = make_agency("Northbridge Homes", sector="Housing")
    other = make_agency("Riverside Police", sector="Police")
    level3 = make_level("Level 3")
    course = make_course("Safeguarding Level 3", code="L3", level=level3)
    return {
        "housing": housing, "other": other, "level3": level3, "course": course,
        "coordinator": make_user(name="Chidi Coordinator", email="chidi@homes.example", agency=housing,
                                 roles=("coordinator",)),
        "officer": make_user(name="Tamsin Okafor", email="tamsin@homes.example", agency=housing),
        "outsider": make_user(name="Pat Constable", email="pat@police.example", agency=other),
        "other_coordinator": make_user(name="Olu Other", email="olu@police.example", agency=other,
                                       roles=("coordinator",)),
        "admin": make_user(name="Ada Admin", email="ada@scp.example", roles=("admin",)),
    }


def _form(world, **changes) -> dict:
    data = {"agency_id": world["housing"].id, "title": "Safeguarding for tenancy officers",
            "held_on": ["3", "3", "2027"], "hours": "3.5",
            "level_id": world["level3"].id, "course_id": 0, "delivered_by": "Housing L&D team",
            "attendee_emails": "TAMSIN@homes.example\n", "others_count": "4"}
    data.update(changes)
    return data


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SingleAgencyTraining))


def test_a_coordinator_records_training_and_it_shows_in_the_persons_record(world, client, login_as):
    login_as(world["coordinator"])
    response = client.post("/agency/single-agency-training/new", data=_form(world))
    assert response.status_code == 302, re.findall(r'error-message.*?</p>', page_without_nonce(response), re.S)
    training = db.session.scalar(select(SingleAgencyTraining))
    assert (training.agency_id, training.hours, training.held_on, training.level_id, training.others_count) == \
        (world["housing"].id, Decimal("3.5"), date(2027, 3, 3), world["level3"].id, 4)
    assert [a.user_id for a in training.attendees] == [world["officer"].id]
    page = page_without_nonce(client.get(response.headers["Location"]))
    assert "Tamsin Okafor" in page and "Housing L&amp;D team" in page
    entry = db.session.scalar(select(AccessLogEntry).order_by(AccessLogEntry.id.desc()))
    assert entry.kind == "single_agency_training" and "Tamsin" not in entry.scope

    client.post("/sign-out")
    login_as(world["officer"])
    page = page_without_nonce(client.get("/my-training"))
    assert "Training your agency ran" in page and "Safeguarding for tenancy officers" in page
    csv_text = client.get("/my-training.csv").get_data(as_text=True)
    assert "Single-agency training (Northbridge Homes)" in csv_text


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "Enter the title of the training"),
    ({"hours": "lots"}, "The hours must be a number"),
    ({"hours": "0"}, "The hours must be more than 0"),
    ({"hours": "NaN"}, "Enter the hours of training"),
    ({"hours": "1e9"}, "The hours must be more than 0 and at most 100"),
    ({"held_on": ["3", "3", "2028"]}, "The date must be today or in the past"),
    ({"level_id": 0}, "Choose the level of the training"),
    ({"attendee_emails": "pat@police.example"}, "pat@police.example is not an active member of staff of Northbridge Homes"),
    ({"attendee_emails": "nobody@homes.example"}, "Nobody has an account with the address nobody@homes.example"),
    ({"attendee_emails": "", "others_count": "0"}, "Name at least one person who attended"),
    ({"others_count": "many"}, "The number must be a whole number"),
])
def test_bad_input_is_refused_on_the_page_and_changes_nothing(world, client, login_as, changes, message):
    login_as(world["coordinator"])
    response = client.post("/agency/single-agency-training/new", data=_form(world, **changes))
    assert response.status_code == 200
    assert message in page_without_nonce(response)
    assert _count() == 0


def test_a_coordinator_acts_only_for_their_own_agency(world, client, login_as):
    mine = record_single_agency_training(world["housing"], TrainingDetails(
        "Tenancy safeguarding", date(2027, 3, 1), Decimal("2"), level=world["level3"],
        attendee_emails=["tamsin@homes.example"]), world["coordinator"])
    db.session.commit()
    with pytest.raises(AttendanceError, match="You do not coordinate Northbridge Homes"):
        record_single_agency_training(world["housing"], TrainingDetails(
            "Not mine", date(2027, 3, 1), Decimal("2"), level=world["level3"], others_count=3),
            world["other_coordinator"])
    db.session.rollback()
    login_as(world["other_coordinator"])
    assert client.post("/agency/single-agency-training/new",
                       data=_form(world, attendee_emails="", others_count="2")).status_code == 200
    assert _count() == 1
    assert client.get(f"/agency/single-agency-training/{mine.id}").status_code == 404
    assert client.post(f"/agency/single-agency-training/{mine.id}/delete").status_code == 404
    assert "Tenancy safeguarding" not in page_without_nonce(client.get("/agency/single-agency-training"))
    assert client.get(f"/agency/single-agency-training?agency_id={world['housing'].id}").status_code == 404
    client.post("/sign-out")
    login_as(world["officer"])
    assert client.get("/agency/single-agency-training").status_code == 403

    client.post("/sign-out")
    login_as(world["admin"])
    page = page_without_nonce(client.get("/agency/single-agency-training"))
    assert "Tenancy safeguarding" in page and "Northbridge Homes" in page
    assert f'href="/agency/single-agency-training/{mine.id}">Tenancy safeguarding</a>' in page
    assert client.post(f"/agency/single-agency-training/{mine.id}/delete").status_code == 302
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(SingleAgencyAttendee)) == 0


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_upload_is_checked_row_by_row_before_anything_is_saved(world, client, login_as):
    login_as(world["coordinator"])
    bad = (HEADER + "Tenancy safeguarding,2027-03-01,2,Level 3,,Team,tamsin@homes.example,3\n"
           "Bad row,31/02/2027,x,Level 9,NOPE,,pat@police.example,\n")
    response = client.post("/agency/single-agency-training/upload", data={
        "agency_id": world["housing"].id, "file": (io.BytesIO(bad.encode()), "training.csv")},
        content_type="multipart/form-data")
    page = page_without_nonce(response)
    assert "1 of 2 rows cannot be recorded" in page
    for problem in ("not a date like", "are not a number", "no level called", "no course with the code",
                    "pat@police.example is not an active member"):
        assert problem in page, problem
    assert "Record these" not in page and _count() == 0

    good = _xlsx([HEADER.strip().split(","),
                  ["Tenancy safeguarding", date(2027, 3, 1), 2, "", "L3", "Team", "tamsin@homes.example", 3.0],
                  ["Hoarding and neglect", "02/03/2027", "1.5", "Level 3", "", "", "", "6"]])
    response = client.post("/agency/single-agency-training/upload", data={
        "agency_id": world["housing"].id, "file": (io.BytesIO(good), "training.xlsx")},
        content_type="multipart/form-data")
    page = page_without_nonce(response)
    assert "All 2 rows can be recorded" in page and _count() == 0
    rows = json.loads(page.split('name="rows" type="hidden" value="')[1].split('"')[0].replace("&#34;", '"')
                      .replace("&quot;", '"').replace("&amp;", "&")) if 'name="rows" type="hidden"' in page else None
    assert rows is not None, "the checked rows travel with the form"
    response = client.post("/agency/single-agency-training/upload/apply",
                           data={"agency_id": str(world["housing"].id), "rows": json.dumps(rows)})
    assert response.status_code == 302
    recorded = db.session.scalars(select(SingleAgencyTraining).order_by(SingleAgencyTraining.held_on)).all()
    assert [(t.title, t.level_id, t.course_id, t.people) for t in recorded] == [
        ("Tenancy safeguarding", world["level3"].id, world["course"].id, 4),
        ("Hoarding and neglect", world["level3"].id, None, 6)]

    # Rows sent back for another agency, or altered, are checked again and refused whole.
    response = client.post("/agency/single-agency-training/upload/apply",
                           data={"agency_id": str(world["other"].id), "rows": json.dumps(rows)})
    assert response.status_code == 302 and _count() == 2
    response = client.post("/agency/single-agency-training/upload/apply",
                           data={"agency_id": str(world["housing"].id), "rows": "not json"})
    assert response.status_code == 302 and _count() == 2


def test_a_file_without_the_headings_is_refused(world, client, login_as):
    login_as(world["coordinator"])
    response = client.post("/agency/single-agency-training/upload", data={
        "agency_id": world["housing"].id, "file": (io.BytesIO(b"name,when\nx,y\n"), "training.csv")},
        content_type="multipart/form-data")
    assert "The first row must name the columns" in page_without_nonce(response)
    response = client.post("/agency/single-agency-training/upload", data={
        "agency_id": world["housing"].id, "file": (io.BytesIO(b"not a workbook"), "training.xlsx")},
        content_type="multipart/form-data")
    assert "not an XLSX workbook" in page_without_nonce(response)
    assert _count() == 0


def test_an_upload_row_with_hidden_characters_is_refused(world):
    row = {c: "" for c in UPLOAD_COLUMNS}
    row.update({"title": "Tenancy\nsafeguarding", "date": "2027-03-01", "hours": "2", "level": "Level 3",
                "others attending": "3", "delivered by": "Team\ta"})
    checked = check_upload(world["housing"], [row], world["coordinator"])
    assert checked[0].problems == [
        "The title cannot contain line breaks, tabs or other hidden characters",
        "Who delivered it cannot contain line breaks, tabs or other hidden characters"]
    row.update({"title": "Tenancy safeguarding", "delivered by": "Team"})
    assert check_upload(world["housing"], [row], world["coordinator"])[0].problems == []
