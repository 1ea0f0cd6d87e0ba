"""The API's writes: completions in bulk and booking or cancelling for the agency's staff. Each keeps
to the token's agency, refuses without its scope, saves all or nothing, records a repeat as a
duplicate, and answers a booking rule's refusal with its message."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.access_log import AccessLogEntry
from app.accounts.models import COORDINATOR, AgencyDomain, RoleGrant, User
from app.api.tokens import create_token
from app.bookings.models import CANCELLED, CONFIRMED, E_LEARNING_IMPORT, WAITING, Booking, BookingEvent, Completion
from app.extensions import db


@pytest.fixture
def writes(world, make_course, make_session, make_user):
    a, b = world.agencies["a"], world.agencies["b"]
    db.session.add_all([AgencyDomain(agency_id=a.id, domain="riverside.example"),
                        AgencyDomain(agency_id=b.id, domain="hillside.example")])
    world.online = make_course("Safeguarding basics online", code="EL1", is_online=True)
    world.known = make_user(name="Kim Known", email="kim.known@riverside.example", agency=a)
    world.theirs = make_user(name="Hana Hill", email="hana.hill@hillside.example", agency=b)
    world.small = make_session(world.course, datetime(2026, 11, 20, 9, 0), capacity=1)
    db.session.commit()
    world.write_token = create_token(a, name="LMS", scopes=["completions", "bookings"], days=90,
                                     actor=world.people["a"].coordinator).secret
    world.admin_token = create_token(a, name="L&D", scopes=["bookings"], days=90, actor=world.admin).secret
    db.session.commit()
    return world


@pytest.fixture
def send(client):
    def _send(method: str, path: str, token: str, json=None):
        return client.open(path, method=method, json=json, headers={"Authorization": f"Bearer {token}"})

    return _send


def _row(email, course="EL1", completed_on="2026-09-15", **more):
    return {"email": email, "course": course, "completed_on": completed_on, **more}


def _completions() -> int:
    return db.session.scalar(select(func.count(Completion.id)).where(Completion.source == E_LEARNING_IMPORT))


def _accounts() -> int:
    return db.session.scalar(select(func.count(User.id)))


# --- Completions ---------------------------------------------------------------------------------

def test_completions_are_recorded_for_the_agency_and_others_come_back_unmatched(writes, send):
    accounts = _accounts()
    rows = [
        _row("KIM.KNOWN@riverside.example", score=85),
        _row("new.starter@riverside.example", name="Nia New"),
        _row("hana.hill@hillside.example"),            # another agency's person
        _row("nobody@hillside.example", name="No One"),  # another agency's domain
        _row("kim.known@riverside.example", course="NOPE"),
        _row("kim.known@riverside.example"),            # repeats row 0
    ]
    response = send("POST", "/api/v1/agency/completions", writes.write_token, {"rows": rows})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert (body["recorded"], body["accounts_opened"], body["duplicates"], body["unmatched"]) == (2, 1, 1, 3)
    outcomes = [(r["index"], r["outcome"]) for r in body["rows"]]
    assert outcomes == [(0, "recorded"), (1, "new_account"), (2, "unmatched"), (3, "unmatched"),
                        (4, "unmatched"), (5, "duplicate")]
    assert body["rows"][0]["person_id"] == writes.known.id
    assert body["rows"][5]["reason"] == "repeats row 0"
    # Another agency's person and a stranger on its domain read alike, with no id.
    assert body["rows"][2]["reason"] == body["rows"][3]["reason"]
    assert body["rows"][2]["person_id"] is None and "Hillside" not in body["rows"][2]["reason"]
    assert "not an online course" in body["rows"][4]["reason"]
    db.session.expire_all()
    assert _accounts() == accounts + 1
    new = db.session.scalar(select(User).where(User.email == "new.starter@riverside.example"))
    assert new.agency_id == writes.agencies["a"].id and new.password_hash is None
    assert {c.user_id for c in db.session.scalars(select(Completion).where(
        Completion.source == E_LEARNING_IMPORT))} == {writes.known.id, new.id}
    assert not db.session.scalars(select(Completion).where(Completion.user_id == writes.theirs.id)).all()
    logged = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.kind == "api")).all()
    assert [e.viewer_id for e in logged] == [writes.people["a"].coordinator.id]
    assert "completions recorded 2" in logged[0].scope


def test_sending_the_same_rows_again_records_nothing_twice(writes, send):
    rows = [_row("kim.known@riverside.example")]
    assert send("POST", "/api/v1/agency/completions", writes.write_token, {"rows": rows}).status_code == 201
    again = send("POST", "/api/v1/agency/completions", writes.write_token, {"rows": rows})
    assert again.status_code == 200
    assert (again.json["recorded"], again.json["rows"][0]["outcome"]) == (0, "duplicate")
    assert again.json["rows"][0]["reason"] == "already recorded"
    assert _completions() == 1


def test_a_dry_run_records_nothing(writes, send):
    accounts = _accounts()
    rows = [_row("kim.known@riverside.example"), _row("new.starter@riverside.example", name="Nia New")]
    response = send("POST", "/api/v1/agency/completions", writes.write_token, {"rows": rows, "dry_run": True})
    assert response.status_code == 200
    assert (response.json["dry_run"], response.json["recorded"], response.json["accounts_opened"]) == (True, 2, 1)
    db.session.expire_all()
    assert (_completions(), _accounts()) == (0, accounts)
    # It showed who the agency's people are, so it is in the access log all the same.
    assert db.session.scalar(select(AccessLogEntry).where(AccessLogEntry.kind == "api")).scope.endswith("none recorded")


def test_one_unreadable_row_refuses_them_all(writes, send):
    accounts = _accounts()
    rows = [_row("kim.known@riverside.example"), _row("new.starter@riverside.example", name="Nia New"),
            _row("kim.known@riverside.example", completed_on="2030-01-01"),
            _row("", score=140)]
    response = send("POST", "/api/v1/agency/completions", writes.write_token, {"rows": rows})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"rows.2", "rows.3"}
    assert "in the future" in response.json["errors"]["rows.2"][0]
    assert "no e-mail address" in response.json["errors"]["rows.3"][0]
    assert "140" in response.json["errors"]["rows.3"][0]
    assert "Nothing was recorded" in response.json["detail"]
    db.session.expire_all()
    assert (_completions(), _accounts()) == (0, accounts)


@pytest.mark.parametrize("sent, field", [
    ({}, "rows"), ({"rows": []}, "rows"), ({"rows": "x"}, "rows"), ({"rows": [{"email": 3}]}, "rows.0.email"),
    ({"rows": [_row("a@riverside.example")], "extra": 1}, "extra"),
])
def test_a_body_that_is_not_rows_is_a_400_naming_the_field(writes, send, sent, field):
    response = send("POST", "/api/v1/agency/completions", writes.write_token, sent)
    assert response.status_code == 400 and field in response.json["errors"]


def test_too_many_rows_is_a_413(writes, send):
    rows = [_row(f"p{i}@riverside.example", name="P") for i in range(1001)]
    response = send("POST", "/api/v1/agency/completions", writes.write_token, {"rows": rows})
    assert response.status_code == 413 and "1000" in response.json["detail"]
    assert _completions() == 0


def test_each_write_needs_its_scope(writes, send):
    read_only = writes.tokens["a"]
    completions = send("POST", "/api/v1/agency/completions", read_only, {"rows": [_row("kim.known@riverside.example")]})
    booking = send("POST", "/api/v1/agency/bookings", read_only,
                   {"session_id": writes.upcoming.id, "person_id": writes.people["a"].absentee.id})
    cancel = send("DELETE", f"/api/v1/agency/bookings/{writes.upcoming.id}", read_only)
    assert [r.status_code for r in (completions, booking, cancel)] == [403, 403, 403]
    assert 'scope="completions"' in completions.headers["WWW-Authenticate"]
    only_completions = create_token(writes.agencies["a"], name="LMS", scopes=["completions"], days=30,
                                    actor=writes.people["a"].coordinator).secret
    db.session.commit()
    assert send("POST", "/api/v1/agency/bookings", only_completions,
                {"session_id": writes.upcoming.id, "email": "kim.known@riverside.example"}).status_code == 403
    assert _completions() == 0 and not db.session.scalar(select(Booking).where(Booking.user_id == writes.known.id))


# --- Bookings ------------------------------------------------------------------------------------

def test_booking_for_the_agencys_person_acts_as_the_coordinator(writes, send):
    response = send("POST", "/api/v1/agency/bookings", writes.write_token,
                    {"session_id": writes.upcoming.id, "email": "Kim.Known@riverside.example"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.json["person"]["id"], response.json["status"]) == (writes.known.id, CONFIRMED)
    booking = db.session.get(Booking, response.json["id"])
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id)).all()[-1]
    assert event.actor_id == writes.people["a"].coordinator.id
    assert "coordinator" in event.reason and "through the agency’s system" in event.reason
    assert db.session.scalar(select(AccessLogEntry).where(AccessLogEntry.kind == "api")).subject_user_id == writes.known.id


def test_a_full_session_puts_them_on_the_waiting_list(writes, send, make_user):
    first = send("POST", "/api/v1/agency/bookings", writes.write_token,
                 {"session_id": writes.small.id, "person_id": writes.known.id})
    second = send("POST", "/api/v1/agency/bookings", writes.write_token,
                  {"session_id": writes.small.id, "person_id": writes.people["a"].absentee.id})
    assert (first.json["status"], second.json["status"]) == (CONFIRMED, WAITING)


def test_a_booking_rule_refusal_is_a_409_with_its_message(writes, send):
    attendee = writes.people["a"].attendee  # already holds a place on the upcoming session
    response = send("POST", "/api/v1/agency/bookings", writes.write_token,
                    {"session_id": writes.upcoming.id, "person_id": attendee.id})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.json["rule"] == "not_booked_here" and "already" in response.json["detail"].lower()
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.user_id == attendee.id)) == 2  # the past and the upcoming place, no third


def test_another_agencys_person_or_a_draft_session_is_a_404(writes, send):
    for sent in ({"session_id": writes.upcoming.id, "person_id": writes.theirs.id},
                 {"session_id": writes.upcoming.id, "email": "hana.hill@hillside.example"},
                 {"session_id": writes.upcoming.id, "person_id": 999_999},
                 {"session_id": writes.upcoming.id + 1, "person_id": writes.known.id}):  # the draft
        response = send("POST", "/api/v1/agency/bookings", writes.write_token, sent)
        assert response.status_code == 404, sent
    assert not db.session.scalars(select(Booking).where(Booking.user_id.in_([writes.theirs.id, writes.known.id]))).all()


def test_a_session_closed_to_the_agency_is_bookable_by_its_token_and_unseen_by_others(writes, send, make_session):
    closed = make_session(writes.course, datetime(2026, 11, 25, 9, 0))
    closed.closed_to_agency_id = writes.agencies["b"].id
    db.session.commit()
    reader = create_token(writes.agencies["a"], name="HR", scopes=["read"], days=90,
                          actor=writes.people["a"].coordinator).secret
    db.session.commit()
    listed = send("GET", "/api/v1/sessions", reader)
    assert listed.status_code == 200 and closed.id not in [s["id"] for s in listed.json["data"]]
    refused = send("POST", "/api/v1/agency/bookings", writes.write_token,
                   {"session_id": closed.id, "person_id": writes.known.id})
    assert refused.status_code == 404
    closed.closed_to_agency_id = writes.agencies["a"].id
    db.session.commit()
    booked = send("POST", "/api/v1/agency/bookings", writes.write_token,
                  {"session_id": closed.id, "person_id": writes.known.id})
    assert booked.status_code == 201, booked.get_data(as_text=True)
    assert booked.json["status"] == CONFIRMED


def test_a_token_whose_creator_no_longer_coordinates_cannot_book(writes, send):
    coordinator = writes.people["a"].coordinator
    db.session.execute(RoleGrant.__table__.delete().where(RoleGrant.user_id == coordinator.id,
                                                          RoleGrant.role == COORDINATOR))
    db.session.commit()
    response = send("POST", "/api/v1/agency/bookings", writes.write_token,
                    {"session_id": writes.upcoming.id, "person_id": writes.known.id})
    assert response.status_code == 403 and "no longer coordinates" in response.json["detail"]
    assert not db.session.scalar(select(Booking).where(Booking.user_id == writes.known.id))


def test_the_coordinator_may_book_their_own_place_as_on_their_pages(writes, send):
    coordinator = writes.people["a"].coordinator
    response = send("POST", "/api/v1/agency/bookings", writes.write_token,
                    {"session_id": writes.upcoming.id, "person_id": coordinator.id})
    assert response.status_code == 201 and response.json["person"]["id"] == coordinator.id
    assert send("DELETE", f"/api/v1/agency/bookings/{response.json['id']}", writes.write_token).status_code == 200


def test_an_administrators_token_books_as_the_ld_team(writes, send):
    response = send("POST", "/api/v1/agency/bookings", writes.admin_token,
                    {"session_id": writes.upcoming.id, "person_id": writes.known.id})
    assert response.status_code == 201 and response.json["status"] == CONFIRMED
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == response.json["id"])).all()[-1]
    assert event.actor_id == writes.admin.id and "L&D team, through the agency’s system" in event.reason


def test_cancelling_the_agencys_booking_and_not_anothers(writes, send):
    made = send("POST", "/api/v1/agency/bookings", writes.write_token,
                {"session_id": writes.upcoming.id, "person_id": writes.known.id}).json
    theirs = db.session.scalar(select(Booking).where(Booking.user_id == writes.people["b"].attendee.id,
                                                     Booking.session_id == writes.upcoming.id))
    assert send("DELETE", f"/api/v1/agency/bookings/{theirs.id}", writes.write_token).status_code == 404
    response = send("DELETE", f"/api/v1/agency/bookings/{made['id']}", writes.write_token)
    assert response.status_code == 200 and response.json["status"] == CANCELLED
    again = send("DELETE", f"/api/v1/agency/bookings/{made['id']}", writes.write_token)
    assert again.status_code == 409 and "cannot be cancelled" in again.json["detail"]
    db.session.expire_all()
    assert db.session.get(Booking, theirs.id).status == CONFIRMED


def test_a_write_that_cannot_be_answered_in_json_changes_nothing(writes, client):
    response = client.post("/api/v1/agency/completions", json={"rows": [_row("kim.known@riverside.example")]},
                           headers={"Authorization": f"Bearer {writes.write_token}", "Accept": "text/html"})
    assert response.status_code == 406 and _completions() == 0
