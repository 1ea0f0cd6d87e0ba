"""The attendance pages and downloads, as trainers, learners, coordinators and administrators use them."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.attendance.certificates import add_certificate_gate, certificate_gates
from app.attendance.models import CHARGE_WAIVED, Certificate, Charge, Suspension
from app.attendance.outcomes import mark_register
from app.attendance.suspensions import active_suspension
from app.bookings.models import ATTENDED, DID_NOT_ATTEND, Booking, BookingEvent
from app.extensions import db
from tests.attendance.conftest import COURSE, DAY, ROOM, at_london, pdf_text


@pytest.fixture
def world(make_user, make_agency, make_course, make_session, make_booking):
    police = make_agency(name="Metropolitan Police - North", sector="Police")
    school = make_agency(name="Hillcrest Primary School", sector="Education - schools")
    w = {
        "police": police, "school": school,
        "trainer": make_user(name="Tara Pendleford", roles=("trainer",)),
        "other_trainer": make_user(name="Owen Otherton", roles=("trainer",)),
        "admin": make_user(name="Adaeze Fairweather", roles=("admin",)),
        "coordinator": make_user(name="Colin Eskdale", agency=school, roles=("coordinator",)),
        "zoe": make_user(name="Zoë Ábrahams", agency=school, job_title="Teacher"),
        "pc": make_user(name="Paul Constable", agency=police, job_title="Police constable"),
    }
    w["course"] = make_course(title="Safeguarding Level 3", charge_pence=7500, refresher_months=36, level="Level 3")
    w["session"] = make_session(course=w["course"], trainers=[w["trainer"]], starts_at=DAY, **ROOM)
    w["zoe_booking"] = make_booking(w["session"], w["zoe"], access_needs="Vegetarian")
    w["pc_booking"] = make_booking(w["session"], w["pc"])
    w["other_session"] = make_session(course=make_course(title="Prevent", **COURSE),
                                      trainers=[w["other_trainer"]], starts_at=DAY, **ROOM)
    return w


def _body(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- trainers


def test_trainers_see_their_own_sessions_and_administrators_all(app, world, sign_in, set_now):
    set_now(at_london(DAY - timedelta(days=1)))
    page = _body(sign_in(world["trainer"]).get("/registers"))
    assert "Safeguarding Level 3" in page and "Prevent" not in page
    assert 'href="/registers"' in page  # "My sessions" in the navigation
    page = _body(sign_in(world["admin"]).get("/registers"))
    assert "Safeguarding Level 3" in page and "Prevent" in page
    assert sign_in(world["zoe"]).get("/registers").status_code == 403
    # Once marking has closed, a session moves to "past".
    set_now(at_london(DAY + timedelta(days=15)))
    client = sign_in(world["trainer"])
    assert "Safeguarding Level 3" not in _body(client.get("/registers"))
    assert "Safeguarding Level 3" in _body(client.get("/registers", query_string={"show": "past"}))


def test_register_before_the_day_downloads_but_does_not_mark(app, world, sign_in, set_now):
    set_now(at_london(DAY - timedelta(hours=15)))  # the evening before
    client = sign_in(world["trainer"])
    page = _body(client.get(f"/registers/{world['session'].id}"))
    assert "can be marked from 3 March 2027" in page
    assert "Save the register" not in page
    csv_response = client.get(f"/registers/{world['session'].id}.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data().decode("utf-8-sig"))))
    assert [r["Name"] for r in rows] == ["Zoë Ábrahams", "Paul Constable"]
    assert rows[0]["Access or dietary needs"] == "Vegetarian" and rows[0]["First day"] == "2027-03-03"
    pdf = client.get(f"/registers/{world['session'].id}.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "Zoë Ábrahams" in pdf_text(pdf.get_data())

    response = client.post(f"/registers/{world['session'].id}/mark",
                           data={f"outcome-{world['zoe_booking'].id}": ATTENDED}, follow_redirects=True)
    assert "can be marked from 3 March 2027" in _body(response)
    assert db.session.get(Booking, world["zoe_booking"].id).outcome is None


def test_register_page_csv_and_sheet_list_people_by_surname(app, world, sign_in, set_now, make_user,
                                                            make_booking):
    # Young (Hillcrest) comes after Constable (the police) though Hillcrest sorts first.
    make_booking(world["session"], make_user(name="Amir young", agency=world["school"]))
    set_now(at_london(DAY.replace(hour=10)))
    client = sign_in(world["trainer"])
    sid = world["session"].id
    page = _body(client.get(f"/registers/{sid}"))
    assert page.index("Zoë Ábrahams") < page.index("Paul Constable") < page.index("Amir young")
    assert "Hillcrest Primary School" in page and "Metropolitan Police - North" in page
    rows = list(csv.DictReader(io.StringIO(client.get(f"/registers/{sid}.csv").get_data().decode("utf-8-sig"))))
    assert [(r["Name"], r["Agency"]) for r in rows] == [
        ("Zoë Ábrahams", "Hillcrest Primary School"), ("Paul Constable", "Metropolitan Police - North"),
        ("Amir young", "Hillcrest Primary School")]
    text = pdf_text(client.get(f"/registers/{sid}.pdf").get_data())
    assert text.index("Zoë Ábrahams") < text.index("Paul Constable") < text.index("Amir young")


def test_trainer_marks_the_register_on_the_day(app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    client = sign_in(world["trainer"])
    sid = world["session"].id
    page = _body(client.get(f"/registers/{sid}"))
    assert "Save the register" in page and "Turned away (late)" in page
    response = client.post(f"/registers/{sid}/mark", data={"then": "all-attended"}, follow_redirects=True)
    assert "2 people marked as attended" in _body(response)
    assert "Register saved" not in _body(response)  # nothing else was chosen
    response = client.post(f"/registers/{sid}/mark", data={
        f"outcome-{world['zoe_booking'].id}": ATTENDED,
        f"outcome-{world['pc_booking'].id}": DID_NOT_ATTEND,
    }, follow_redirects=True)
    assert "Register saved: 1 change." in _body(response)
    db.session.expire_all()
    assert db.session.get(Booking, world["pc_booking"].id).outcome == DID_NOT_ATTEND
    assert db.session.scalars(select(Charge)).one().user_id == world["pc"].id

    response = client.post(f"/registers/{sid}/mark", data={f"outcome-{world['pc_booking'].id}": "gone"},
                           follow_redirects=True)
    assert "Choose what happened for Paul Constable" in _body(response)


def test_saving_part_of_the_register_says_how_many_are_not_marked_yet(app, world, sign_in, set_now,
                                                                       make_booking, make_user):
    make_booking(world["session"], make_user(name="Amir Young", agency=world["school"]))
    set_now(at_london(DAY.replace(hour=10)))
    client = sign_in(world["trainer"])
    sid = world["session"].id
    response = client.post(f"/registers/{sid}/mark", data={f"outcome-{world['pc_booking'].id}": ATTENDED},
                           follow_redirects=True)
    assert "Register saved: 1 change. 2 not marked yet." in _body(response)
    response = client.post(f"/registers/{sid}/mark", data={"then": "all-attended"}, follow_redirects=True)
    assert "2 people marked as attended." in _body(response) and "not marked yet" not in _body(response)


def test_leaving_for_the_walk_in_page_or_marking_everyone_saves_the_chosen_marks_first(
        app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    client = sign_in(world["trainer"])
    sid = world["session"].id
    page = _body(client.get(f"/registers/{sid}"))
    # Both buttons submit the register's own form (no script needed).
    for then in ("walk-in", "all-attended"):
        assert re.search(rf'<button[^>]*name="then"[^>]*value="{then}"|<button[^>]*value="{then}"[^>]*name="then"', page)
    assert page.count('form="register-form"') == 2 and 'id="register-form"' in page
    response = client.post(f"/registers/{sid}/mark", data={
        f"outcome-{world['pc_booking'].id}": DID_NOT_ATTEND, "then": "walk-in"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/registers/{sid}/walk-in")
    db.session.expire_all()
    assert db.session.get(Booking, world["pc_booking"].id).outcome == DID_NOT_ATTEND
    assert "Register saved: 1 change." in _body(client.get(response.headers["Location"]))

    response = client.post(f"/registers/{sid}/mark", data={
        f"outcome-{world['pc_booking'].id}": ATTENDED, "then": "all-attended"}, follow_redirects=True)
    assert "Register saved: 1 change. 1 person marked as attended." in _body(response)
    db.session.expire_all()
    assert db.session.get(Booking, world["pc_booking"].id).outcome == ATTENDED
    assert db.session.get(Booking, world["zoe_booking"].id).outcome == ATTENDED


def test_other_trainers_and_coordinators_cannot_open_a_register(app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    sid = world["session"].id
    for person in (world["other_trainer"],):
        client = sign_in(person)
        for url in (f"/registers/{sid}", f"/registers/{sid}.csv", f"/registers/{sid}.pdf",
                    f"/registers/{sid}/walk-in"):
            assert client.get(url).status_code == 403, url
        assert client.post(f"/registers/{sid}/mark", data={"then": "all-attended"}).status_code == 403
    client = sign_in(world["coordinator"])
    assert client.get(f"/registers/{sid}").status_code == 403
    assert sign_in(world["trainer"]).get("/registers/99999").status_code == 404


def test_walk_ins_found_by_name_or_added_as_new_people(app, world, sign_in, set_now, make_user):
    set_now(at_london(DAY.replace(hour=10)))
    amir = make_user(name="Amir Young", email="amir.young@hillcrest.example", agency=world["school"])
    client = sign_in(world["trainer"])
    sid = world["session"].id
    page = _body(client.get(f"/registers/{sid}/walk-in", query_string={"q": "amir.young"}))
    assert "Amir Young" in page and "Add Amir Young as attended" in page
    response = client.post(f"/registers/{sid}/walk-in/{amir.id}", follow_redirects=True)
    assert "Amir Young is on the register as a walk-in" in _body(response)

    response = client.post(f"/registers/{sid}/walk-in", data={
        "name": "Nia Okafor", "email": "info@hillcrest.example", "job_title": "Teacher",
        "agency_id": world["school"].id})
    page = _body(response)
    assert "looks like a shared mailbox" in page and 'id="email-error"' in page
    response = client.post(f"/registers/{sid}/walk-in", data={
        "name": "Nia Okafor", "email": "nia.okafor@hillcrest.example", "job_title": "Teacher",
        "agency_id": world["school"].id}, follow_redirects=True)
    assert "Nia Okafor is on the register" in _body(response)
    walk_ins = db.session.scalars(select(Booking).where(Booking.walk_in.is_(True))).all()
    assert sorted(b.user.name for b in walk_ins) == ["Amir Young", "Nia Okafor"]
    assert all(b.outcome == ATTENDED and b.status == "confirmed" for b in walk_ins)


def test_the_walk_in_search_needs_three_characters_and_shows_at_most_ten_people(app, world, sign_in, set_now,
                                                                                make_user):
    set_now(at_london(DAY.replace(hour=10)))
    for n in range(12):
        make_user(name=f"Robin Ashdown {n:02d}", email=f"robin{n:02d}@hillcrest.example", agency=world["school"])
    client = sign_in(world["trainer"])
    sid = world["session"].id

    def search(q):
        return _body(client.get(f"/registers/{sid}/walk-in", query_string={"q": q}))

    for short in ("ro", " r ", "@h"):
        page = search(short)
        assert "Enter at least 3 characters of a name or e-mail address" in page, short
        assert "Robin Ashdown" not in page and "hillcrest.example" not in page, short
    page = search("rob")
    assert page.count("Add Robin Ashdown") == 10
    assert "Robin Ashdown 09" in page and "Robin Ashdown 10" not in page
    assert "Only the first 10 people found are shown" in page
    page = search("robin11")
    assert page.count("Add Robin Ashdown") == 1 and "Only the first" not in page
    page = search("%%%")
    assert "Robin Ashdown" not in page and "Nobody found" in page, "% is a character, not a wildcard"


def test_a_draft_session_has_no_register_even_for_its_trainer(app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    world["session"].status = "draft"
    db.session.commit()
    client = sign_in(world["trainer"])
    sid = world["session"].id
    for url in (f"/registers/{sid}", f"/registers/{sid}.csv", f"/registers/{sid}.pdf",
                f"/registers/{sid}/walk-in", f"/registers/{sid}/walk-in?q=amir"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/registers/{sid}/mark", data={"then": "all-attended"}).status_code == 404
    assert "Safeguarding Level 3" not in _body(client.get("/registers"))


def test_administrators_correct_with_a_reason_and_see_the_history(app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    mark_register(world["session"], {world["pc_booking"].id: DID_NOT_ATTEND}, world["trainer"])
    db.session.commit()
    set_now(at_london(DAY + timedelta(days=40)))  # long after marking closed
    bid = world["pc_booking"].id
    assert sign_in(world["trainer"]).get(f"/attendance/bookings/{bid}").status_code == 403
    client = sign_in(world["admin"])
    page = _body(client.get(f"/attendance/bookings/{bid}"))
    assert "Did not attend" in page and "Tara Pendleford" in page and "£75.00" in page
    response = client.post(f"/attendance/bookings/{bid}", data={"outcome": ATTENDED, "reason": ""})
    assert "Say why you are correcting the register" in _body(response)
    response = client.post(f"/attendance/bookings/{bid}", data={"outcome": ATTENDED, "reason": "Signed in late"},
                           follow_redirects=True)
    assert "Correction saved" in _body(response)
    assert "Correction: Signed in late" in _body(response)
    assert db.session.scalars(select(Charge)).one().status == "void"
    assert db.session.scalar(select(db.func.count()).select_from(BookingEvent)) == 2


def test_administrators_waive_a_charge_and_download_all_agencies_charges(app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    mark_register(world["session"], {world["pc_booking"].id: DID_NOT_ATTEND,
                                      world["zoe_booking"].id: DID_NOT_ATTEND}, world["trainer"])
    db.session.commit()
    pc_charge = db.session.scalar(select(Charge).where(Charge.user_id == world["pc"].id))
    client = sign_in(world["admin"])
    response = client.post(f"/charges/{pc_charge.id}/waive", data={"waive-reason": "Illness"}, follow_redirects=True)
    assert "The charge for Paul Constable is waived" in _body(response)
    db.session.expire_all()
    assert db.session.get(Charge, pc_charge.id).status == CHARGE_WAIVED
    page = _body(client.get("/charges", query_string={"start": "2027-03-01", "end": "2027-03-31"}))
    assert "Metropolitan Police - North" in page and "Hillcrest Primary School" in page and "£75.00" in page
    data = client.get("/charges.csv", query_string={"start": "2027-03-01", "end": "2027-03-31", "status": "due"})
    rows = list(csv.DictReader(io.StringIO(data.get_data().decode("utf-8-sig"))))
    assert [(r["Agency"], r["Name"], r["Amount (GBP)"], r["Date"]) for r in rows] == [
        ("Hillcrest Primary School", "Zoë Ábrahams", "75.00", "2027-03-03")]
    assert sign_in(world["coordinator"]).get("/charges").status_code == 403


# ---------------------------------------------------------------- learners


def test_training_record_and_certificate(app, world, sign_in, set_now, only_test_gates):
    set_now(at_london(DAY.replace(hour=10)))
    mark_register(world["session"], {world["zoe_booking"].id: ATTENDED}, world["trainer"])
    db.session.commit()
    client = sign_in(world["zoe"])
    page = _body(client.get("/my-training"))
    assert "Safeguarding Level 3" in page and "3 March 2030" in page and "My training" in page

    rows = list(csv.DictReader(io.StringIO(client.get("/my-training.csv").get_data().decode("utf-8-sig"))))
    assert rows == [{"Course": "Safeguarding Level 3", "Course code": world["course"].code, "Level": "Level 3",
                     "Completed on": "2027-03-03", "Hours": "6.00", "How": "Attended",
                     "Refresher due": "2030-03-03", "Refresher": ""}]
    text = pdf_text(client.get("/my-training.pdf").get_data())
    assert "Training record: Zoë Ábrahams" in text and "Safeguarding Level 3" in text and "3 March 2030" in text

    bid = world["zoe_booking"].id

    def gate(booking):
        return "Complete the first evaluation to get your certificate."

    add_certificate_gate(gate)
    page = _body(client.get(f"/my-training/certificates/{bid}"))
    assert "Complete the first evaluation to get your certificate." in page
    assert client.get(f"/my-training/certificates/{bid}.pdf").status_code == 302
    certificate_gates.remove(gate)
    page = _body(client.get(f"/my-training/certificates/{bid}"))
    assert "Download the certificate" in page
    text = pdf_text(client.get(f"/my-training/certificates/{bid}.pdf").get_data())
    code = db.session.scalars(select(Certificate)).one().code
    for expected in ("Certificate of attendance", "Zoë Ábrahams", "Safeguarding Level 3", "Level 3",
                     "3 March 2027", "6 hours", "Northbridge Safeguarding Children Partnership", code):
        assert expected in text, expected

    # Someone else's certificate is not found, and the public page confirms only what it should.
    assert sign_in(world["pc"]).get(f"/my-training/certificates/{bid}").status_code == 404
    anonymous = app.test_client()
    page = _body(anonymous.get("/certificates/verify", query_string={"code": code.lower()}))
    assert "This certificate is genuine" in page and "Zoë Ábrahams" in page and "3 March 2027" in page
    assert "Hillcrest" not in page and world["zoe"].email not in page
    page = _body(anonymous.get("/certificates/verify", query_string={"code": "ZZZZ-ZZZZ-ZZZZ"}))
    assert "cannot find a current certificate" in page


# ---------------------------------------------------------------- coordinators


def test_coordinator_sees_their_agency_with_filters_and_downloads(app, world, sign_in, set_now, make_booking,
                                                                  make_session, make_course):
    set_now(at_london(DAY.replace(hour=10)))
    mark_register(world["session"], {world["zoe_booking"].id: DID_NOT_ATTEND}, world["trainer"])
    db.session.commit()
    client = sign_in(world["coordinator"])
    page = _body(client.get("/agency"))
    assert "Hillcrest Primary School" in page and "Zoë Ábrahams" in page and "Did not attend" in page
    assert "Paul Constable" not in page
    assert "1 no-shows" in page or "1 no-show" in page
    page = _body(client.get("/agency", query_string={"start": "2027-04-01", "end": "2027-05-01"}))
    assert "No bookings for sessions in this period" in page
    page = _body(client.get("/agency", query_string={"start": "2027-05-01", "end": "2027-04-01"}))
    assert "The end date must be on or after the start date" in page

    rows = list(csv.DictReader(io.StringIO(client.get("/agency/bookings.csv").get_data().decode("utf-8-sig"))))
    assert [(r["Name"], r["Attendance"], r["First day"]) for r in rows] == [("Zoë Ábrahams", "Did not attend", "2027-03-03")]
    page = _body(client.get("/agency/charges"))
    assert "Zoë Ábrahams" in page and "£75.00" in page and "Did not attend" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/agency/charges.csv").get_data().decode("utf-8-sig"))))
    assert [(r["Name"], r["Amount (GBP)"], r["Status"]) for r in rows] == [("Zoë Ábrahams", "75.00", "Due")]


def test_administrators_choose_any_agency(app, world, sign_in, set_now):
    set_now(at_london(DAY.replace(hour=10)))
    client = sign_in(world["admin"])
    assert "Choose an agency" in _body(client.get("/agency"))
    page = _body(client.get("/agency", query_string={"agency_id": world["police"].id}))
    assert "Paul Constable" in page and "Zoë Ábrahams" not in page


def test_suspensions_page_lifts_a_suspension(app, world, sign_in, set_now, make_session, make_booking, mailbox, deliver):
    earlier = make_session(course=world["course"], trainers=[world["trainer"]],
                           starts_at=at_london(DAY - timedelta(days=28)), **ROOM)
    set_now(at_london(DAY - timedelta(days=28, hours=-3)))
    mark_register(earlier, {make_booking(earlier, world["pc"]).id: DID_NOT_ATTEND}, world["trainer"])
    db.session.commit()
    set_now(at_london(DAY.replace(hour=12)))
    mark_register(world["session"], {world["pc_booking"].id: DID_NOT_ATTEND}, world["trainer"])
    db.session.commit()
    suspension = active_suspension(world["pc"])
    assert "You cannot book training until 3 September 2027" in _body(sign_in(world["pc"]).get("/my-training"))
    client = sign_in(world["admin"])
    page = _body(client.get("/suspensions"))
    assert "Paul Constable" in page and "3 September 2027" in page
    response = client.post(f"/suspensions/{suspension.id}/lift", data={"lift-reason": ""}, follow_redirects=True)
    assert "Say why the suspension is lifted" in _body(response)
    response = client.post(f"/suspensions/{suspension.id}/lift", data={"lift-reason": "Off sick"}, follow_redirects=True)
    assert "Paul Constable can book again" in _body(response)
    db.session.expire_all()
    assert db.session.get(Suspension, suspension.id).lifted_at is not None
    assert "You cannot book training" not in _body(sign_in(world["pc"]).get("/my-training"))


def test_every_attendance_view_declares_who_may_use_it(app):
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("attendance."):
            assert getattr(view, "allowed_roles", None), endpoint


def _navigation(page: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(r'class="govuk-service-navigation__link"[^>]*>(.*?)</a>', page, re.S)]


def test_navigation_shows_each_role_its_attendance_pages(app, world, sign_in):
    learner = _navigation(_body(sign_in(world["zoe"]).get("/")))
    assert "My training" in learner and "My sessions" not in learner and "My agency" not in learner
    assert "My agency" in _navigation(_body(sign_in(world["coordinator"]).get("/")))
    assert "My sessions" in _navigation(_body(sign_in(world["trainer"]).get("/")))
    assert "My sessions" in _navigation(_body(sign_in(world["admin"]).get("/")))


def test_the_coordinator_sees_level_3_renewed_by_its_refresher_course(app, world, sign_in, set_now, make_course):
    from app.bookings.models import Completion

    set_now(at_london(DAY.replace(hour=10)))
    db.session.add(Completion(user_id=world["zoe"].id, course_id=world["course"].id,
                              completed_on=date(2023, 1, 10), source="attendance"))
    db.session.commit()
    client = sign_in(world["coordinator"])
    page = _body(client.get("/agency"))
    assert "10 January 2026" in page and "Overdue" in page

    refresher = make_course(title="Safeguarding Level 3 Refresher", refresher_months=None, renews=world["course"],
                            charge_pence=7500, level="Level 3")
    db.session.add(Completion(user_id=world["zoe"].id, course_id=refresher.id, completed_on=date(2027, 2, 1),
                              source="attendance"))
    db.session.commit()
    page = _body(client.get("/agency"))
    assert "Overdue" not in page and "No refreshers due in the next" in page
