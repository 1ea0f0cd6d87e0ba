"""Erasure: identity gone from every table, reports and charges unchanged, refusals change nothing."""
from __future__ import annotations

import logging
from dataclasses import astuple
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import ERASED, AccountEvent, User
from app.attendance.charges import charge_for, record_payment
from app.attendance.errors import AttendanceError
from app.attendance.models import Charge
from app.attendance.outcomes import record_outcome
from app.bookings.models import DID_NOT_ATTEND, Booking, BookingEvent
from app.email import OutboxMessage
from app.extensions import db
from app.filters import Period, Viewer
from app.privacy.erasure import erase_person
from app.privacy.errors import PrivacyError
from app.reports.figures import activity_report, annual_report
from tests.conftest import TEST_PASSWORD
from tests.privacy.conftest import DAY, EMAIL, NAME, NOW, rows_with_text

YEAR = Period(date(2026, 4, 1), date(2027, 3, 31))


def _figures(agency_id: int) -> dict:
    annual, activity = annual_report(YEAR, Viewer(None)), activity_report(YEAR, Viewer(None))
    return {
        "attendees": annual.total, "people": annual.people, "by_sector": annual.by_sector,
        "events": annual.events, "evaluation": annual.evaluation,
        "activity": [astuple(r) for r in activity.rows],
        "charged_to_agency": db.session.scalar(
            select(func.sum(Charge.amount_pence)).where(Charge.agency_id == agency_id)),
    }


def test_erasure_removes_identity_everywhere_and_keeps_the_figures(rich_person, admin, app, client,
                                                                   login_as, caplog):
    person, agency = rich_person["person"], rich_person["agency"]
    person_id = person.id
    before = _figures(agency.id)
    assert before["attendees"] == 1 and before["charged_to_agency"] == 6000 and before["evaluation"]
    assert rows_with_text([EMAIL, NAME])  # the search finds them before

    their_browser = app.test_client()
    assert their_browser.post("/sign-in", data={"email": EMAIL, "password": TEST_PASSWORD}).status_code == 302
    assert their_browser.get("/account").status_code == 200

    login_as(admin)
    page = client.get(f"/admin/people/{person_id}/erase").get_data(as_text=True)
    assert "This cannot be undone" in page
    refused = client.post(f"/admin/people/{person_id}/erase", data={}).get_data(as_text=True)
    assert "Confirm that you understand this cannot be undone" in refused
    assert db.session.get(User, person_id).name == NAME
    with caplog.at_level(logging.INFO):
        response = client.post(f"/admin/people/{person_id}/erase", data={"understood": "y"})
    assert response.status_code == 302
    db.session.expire_all()

    assert rows_with_text([EMAIL, NAME]) == []
    assert rows_with_text(["Orla Overton", "halal", "hearing loop", "Share chronologies", "ZQ-2291",
                           "Named nurse"]) == []
    # Their manager's address stays only where it is the manager's own: mail sent to the manager
    # (with the person's name taken out of it).
    assert set(rows_with_text(["orla.overton@"])) == {("outbox_messages", "recipient")}
    erased = db.session.get(User, person_id)
    assert erased.status == ERASED and erased.email.endswith("@erased.invalid")
    assert erased.password_hash is None and erased.name == "Erased person"
    assert _figures(agency.id) == before
    reasons = db.session.scalars(select(BookingEvent.reason).join(Booking, Booking.id == BookingEvent.booking_id)
                                 .where(Booking.user_id == person_id)).all()
    assert reasons and set(reasons) <= {"", "[removed]"}
    # The certificate still verifies, without a name.
    code = rich_person["certificate"]
    verify = client.get(f"/certificates/verify?code={code}").get_data(as_text=True)
    assert "This certificate is genuine" in verify and "details have been erased" in verify
    # They are signed out everywhere and cannot sign in again.
    assert their_browser.get("/account").status_code == 302
    assert their_browser.post("/sign-in", data={"email": EMAIL, "password": TEST_PASSWORD}).status_code == 200
    # The erasure is recorded without who the person was.
    event = db.session.scalar(select(AccountEvent).where(AccountEvent.user_id == person_id,
                                                         AccountEvent.action == "erased"))
    assert event.actor_id == admin.id and event.detail == "at their request"
    assert not any(NAME in r.getMessage() or EMAIL in r.getMessage() for r in caplog.records)
    assert any(f"Person {person_id} erased by person {admin.id}" in r.getMessage() for r in caplog.records)
    # The admin page says so, and offers nothing that would mail them.
    admin_page = client.get(f"/admin/people/{person_id}").get_data(as_text=True)
    assert "details were erased" in admin_page and "Send a new confirmation link" not in admin_page
    with pytest.raises(PrivacyError, match="already been erased"):
        erase_person(erased, actor=admin)


def test_an_unpaid_charge_and_a_booking_to_come_stop_erasure(rich_person, admin, make_session,
                                                            make_booking, client, login_as):
    person = rich_person["person"]
    coming = make_booking(make_session(rich_person["course"], NOW + timedelta(days=20)), person)
    another = make_booking(make_session(rich_person["course"], DAY + timedelta(days=14)), person, history=True)
    record_outcome(another, DID_NOT_ATTEND, admin, "register")
    db.session.commit()
    events = db.session.scalar(select(func.count()).select_from(AccountEvent))

    login_as(admin)
    page = client.get(f"/admin/people/{person.id}/erase").get_data(as_text=True)
    assert "This cannot be done yet" in page and "understood" not in page
    assert "is not paid" in page and "£75.00" in page
    assert "has not happened yet" in page and "Cancel the booking first" in page
    response = client.post(f"/admin/people/{person.id}/erase", data={"understood": "y"})
    assert f"{NAME} cannot be erased yet." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).email == EMAIL
    assert db.session.scalar(select(func.count()).select_from(AccountEvent)) == events
    assert db.session.get(type(coming), coming.id).manager_email == coming.manager_email

    with pytest.raises(PrivacyError) as refusal:
        erase_person(person, actor=admin)
    assert len(refusal.value.problems) == 2
    db.session.rollback()

    # Recording the payment clears one reason; the booking to come still stands.
    charge = charge_for(another)
    client.post(f"/charges/{charge.id}/paid", data={})
    db.session.expire_all()
    assert charge_for(another).paid_at is not None
    with pytest.raises(PrivacyError) as refusal:
        erase_person(person, actor=admin)
    assert len(refusal.value.problems) == 1 and "has not happened yet" in refusal.value.problems[0][1]
    db.session.rollback()


def test_only_administrators_record_a_payment_and_no_one_erases_themselves(rich_person, admin, make_user,
                                                                          client, login_as):
    learner = make_user()
    charge = charge_for(rich_person["missed"])
    with pytest.raises(AttendanceError, match="already recorded as paid"):
        record_payment(charge, admin)
    with pytest.raises(AttendanceError, match="Only the L&D team"):
        record_payment(charge, learner)
    login_as(learner)
    assert client.post(f"/charges/{charge.id}/paid", data={}).status_code == 403
    with pytest.raises(PrivacyError, match="cannot erase your own account"):
        erase_person(admin, actor=admin)


def test_a_trainer_of_a_session_to_come_waits_and_names_are_replaced_as_whole_words(
        app, set_now, make_user, make_session, admin):
    set_now(NOW)
    trainer = make_user(name="Sam Tate", email="sam.tate@nbscp.example", roles=("trainer",))
    session = make_session(starts_at=NOW + timedelta(days=3), trainers=(trainer,))
    with pytest.raises(PrivacyError, match="cannot be erased yet") as refusal:
        erase_person(trainer, actor=admin)
    assert "They are a trainer of" in refusal.value.problems[0][1]
    db.session.rollback()

    session.trainers = []
    for n, body in enumerate(("Sam Tate asked for the room.", "Sam Tatesworth asked, not Sam Tate.",
                              "SAM TATE and sam.tate@NBSCP.example")):
        db.session.add(OutboxMessage(idempotency_key=f"t{n}", recipient="room@nbscp.example",
                                     subject="Room", text_body=body))
    db.session.commit()
    erase_person(trainer, actor=admin)
    db.session.commit()
    bodies = db.session.scalars(select(OutboxMessage.text_body).order_by(OutboxMessage.id)).all()
    assert bodies == ["[removed] asked for the room.", "Sam Tatesworth asked, not [removed].",
                      "[removed] and [removed]"]
    assert not db.session.get(User, trainer.id).role_grants
