"""A coordinator never sees another agency's people: every attendance page and download, and URL guesses."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.attendance.completion_import import upload_completions
from app.attendance.models import Charge, SessionMaterial, SingleAgencyAttendee, SingleAgencyTraining, Suspension
from app.attendance.outcomes import mark_register
from app.attendance.suspensions import active_suspension
from app.bookings.models import ATTENDED, DID_NOT_ATTEND, Booking, Completion
from app.extensions import db
from tests.attendance.conftest import DAY, ROOM, SignedInClient, at_london, pdf_text
from tests.conftest import TEST_PASSWORD

B_SECRETS = ("Paul Constable", "Priya Sergeant", "paul.constable@", "priya.sergeant@",
             "Metropolitan Police - North")


def _text(response) -> str:
    if response.headers.get("Content-Type", "").startswith("application/pdf"):
        return pdf_text(response.get_data())
    return response.get_data().decode("utf-8-sig", errors="replace")


def test_coordinator_of_one_agency_finds_no_name_from_another(
        app, make_user, make_agency, make_course, make_session, make_booking, set_now):
    school = make_agency(name="Hillcrest Primary School", sector="Education - schools")
    police = make_agency(name="Metropolitan Police - North", sector="Police")
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    coordinator = make_user(name="Colin Eskdale", agency=school, roles=("coordinator",))
    zoe = make_user(name="Zoë Ábrahams", agency=school)
    paul = make_user(name="Paul Constable", email="paul.constable@police.example", agency=police)
    priya = make_user(name="Priya Sergeant", email="priya.sergeant@police.example", agency=police)
    # A coordinator of the police exists too; their grant must not widen the school coordinator's view.
    make_user(name="Pat Policecoord", agency=police, roles=("coordinator",))

    course = make_course(title="Safeguarding Level 3", charge_pence=7500, refresher_months=36, level="Level 3")
    earlier = make_session(course=course, trainers=[trainer], starts_at=at_london(DAY - timedelta(days=21)), **ROOM)
    session = make_session(course=course, trainers=[trainer], starts_at=DAY, **ROOM)
    b_earlier = make_booking(earlier, paul)
    zoe_booking = make_booking(session, zoe)
    paul_booking = make_booking(session, paul)
    priya_booking = make_booking(session, priya)
    make_booking(session, make_user(name="Late Canceller", agency=police), status="cancelled",
                 late_cancellation=True)
    set_now(at_london(DAY - timedelta(days=21, hours=-3)))
    mark_register(earlier, {b_earlier.id: DID_NOT_ATTEND}, trainer)
    set_now(at_london(DAY.replace(hour=12)))
    mark_register(session, {zoe_booking.id: DID_NOT_ATTEND, paul_booking.id: DID_NOT_ATTEND,
                            priya_booking.id: ATTENDED}, trainer)
    db.session.commit()
    assert active_suspension(paul) is not None  # B has a suspended booker, charges and a completion

    police_training = SingleAgencyTraining(agency=police, title="Police own training", held_on=DAY.date(),
                                           hours=Decimal("2"), attendees=[SingleAgencyAttendee(user=paul)])
    db.session.add(police_training)
    db.session.commit()
    ids = {
        "training_id": police_training.id,
        "session_id": session.id,
        "booking_id": paul_booking.id,
        "charge_id": db.session.scalar(select(Charge.id).where(Charge.user_id == paul.id)),
        "suspension_id": db.session.scalar(select(Suspension.id).where(Suspension.user_id == paul.id)),
        "user_id": paul.id,
        # A completions file naming Paul, uploaded by someone else: never the coordinator's to see.
        "upload_id": upload_completions(
            b"name,email,course,completed_on\nPaul Constable,paul.constable@police.example,EL1,2027-01-05\n",
            "export.csv", priya).id,
        "token": "not-a-door-code",  # the door code's page: an altered code finds nothing
    }
    # The session's pre-course material: for the people booked on it, not for a coordinator.
    material = SessionMaterial(session_id=session.id, uploaded_by_id=trainer.id, name="Paul Constable notes.pdf",
                               content_type="application/pdf", size=9, content=b"%PDF-1.4\n")
    db.session.add(material)
    db.session.commit()
    ids["material_id"] = material.id
    priya_completion = db.session.scalar(select(Completion).where(Completion.user_id == priya.id))
    assert priya_completion is not None

    client = SignedInClient(app, app.response_class, use_cookies=True)
    assert client.post("/sign-in", data={"email": coordinator.email, "password": TEST_PASSWORD}).status_code == 302

    period = {"start": "2026-01-01", "end": "2028-01-01"}
    visited = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("attendance."):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", str(ids[name])).replace(f"<{name}>", str(ids[name]))
        if "GET" in rule.methods:
            for query in ({}, period, dict(period, agency_id=police.id), {"booking_id": paul_booking.id},
                          {"q": "Paul"}, {"code": "x"}):
                response = client.get(url, query_string=query)
                visited += 1
                text = _text(response)
                assert response.status_code in (200, 302, 403, 404), (url, query, response.status_code)
                for secret in B_SECRETS:
                    assert secret not in text, (url, query, secret)
                if query.get("agency_id") == police.id and rule.endpoint in (
                        "reports.agency_home", "reports.agency_charges",
                        "reports.agency_bookings_csv", "reports.agency_charges_csv"):
                    assert response.status_code == 403, url
                if rule.arguments:
                    assert response.status_code in (403, 404), (url, response.status_code)
        if "POST" in rule.methods and rule.arguments:
            response = client.post(url, data={"reason": "x", "waive-reason": "x", "lift-reason": "x",
                                              f"outcome-{paul_booking.id}": ATTENDED, "outcome": ATTENDED})
            assert response.status_code in (403, 404), (url, response.status_code)
    assert visited > 60

    # The school coordinator's own pages do show their own person, so the walk above could fail.
    page = client.get("/agency", query_string=period).get_data(as_text=True)
    assert "Zoë Ábrahams" in page
    assert "Zoë Ábrahams" in _text(client.get("/agency/charges.csv", query_string=period))

    # Nothing changed through the refused POSTs.
    db.session.expire_all()
    assert db.session.get(Booking, paul_booking.id).outcome == DID_NOT_ATTEND
    assert db.session.get(Charge, ids["charge_id"]).status == "due"
    assert db.session.get(Suspension, ids["suspension_id"]).lifted_at is None
    assert db.session.get(SessionMaterial, ids["material_id"]) is not None


def test_a_coordinator_with_no_agency_grant_sees_nothing(app, make_user, make_agency):
    person = make_user(name="Nobody Coordinates", roles=())
    from app.accounts.models import RoleGrant

    person.role_grants.append(RoleGrant(role="coordinator", agency_id=None))
    db.session.commit()
    client = SignedInClient(app, app.response_class, use_cookies=True)
    client.post("/sign-in", data={"email": person.email, "password": TEST_PASSWORD})
    for url in ("/agency", "/agency/charges", "/agency/bookings.csv", "/agency/charges.csv"):
        assert client.get(url).status_code == 403, url
