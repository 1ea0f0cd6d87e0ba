"""Check-in at an event (issue 17): codes scanned or typed by the trainer, the queue's POSTed
scans, and people confirming their own arrival with the door code. Each place counts once."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.access_log import AccessLogEntry
from app.attendance.check_in import ALREADY, CHECKED_IN, check_in, self_check_in
from app.attendance.errors import AttendanceError
from app.bookings.check_in_codes import door_token, place_token, short_code
from app.bookings.models import ATTENDED, CANCELLED, TURNED_AWAY, Booking, BookingEvent, Completion
from app.bookings.workshops import choose_workshops
from app.extensions import db
from tests.attendance.conftest import DAY, ROOM, at_london


@pytest.fixture
def event(make_user, make_conference, make_booking, make_session, make_course):
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    conference = make_conference(starts_at=DAY, trainers=(trainer,))
    other = make_session(make_course("Prevent"), DAY, **ROOM)
    ada, bo = make_user(name="Ada Lovelock"), make_user(name="Bo Quill")
    return {
        "trainer": trainer, "session": conference, "other": other, "ada": ada, "bo": bo,
        "admin": make_user(name="Adaeze Fairweather", roles=("admin",)),
        "outsider": make_user(name="Owen Otherton", roles=("trainer",)),
        "ada_booking": make_booking(conference, ada), "bo_booking": make_booking(conference, bo),
        "elsewhere": make_booking(other, make_user(name="Cy Elsewhere")),
    }


def _refused(message, func, *args):
    with pytest.raises(AttendanceError) as caught:
        func(*args)
    db.session.rollback()
    assert message in caught.value.message, caught.value.message


def test_a_code_checks_a_person_in_once(app, event, set_now):
    set_now(at_london(DAY.replace(hour=9, minute=12)))
    booking = event["ada_booking"]
    result = check_in(event["session"], place_token(booking), event["trainer"])
    db.session.commit()
    assert (result.result, result.booking.outcome) == (CHECKED_IN, ATTENDED)
    assert db.session.scalar(select(func.count()).select_from(Completion)
                             .where(Completion.booking_id == booking.id)) == 1
    set_now(at_london(DAY.replace(hour=9, minute=40)))
    for code in (place_token(booking), short_code(booking), short_code(booking).lower().replace("-", " ")):
        again = check_in(event["session"], code, event["trainer"])
        db.session.commit()
        assert again.result == ALREADY
        assert again.at == at_london(DAY.replace(hour=9, minute=12))
    events = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id,
                                                           BookingEvent.to_outcome == ATTENDED)).all()
    assert [e.reason for e in events] == ["Checked in with their code"]


def test_wrong_event_altered_and_unknown_codes_are_refused(app, event, set_now):
    set_now(at_london(DAY.replace(hour=9)))
    session, trainer = event["session"], event["trainer"]
    _refused("This code is for another event: Prevent on 3 March 2027", check_in, session,
             place_token(event["elsewhere"]), trainer)
    _refused("This code is for another event", check_in, session, short_code(event["elsewhere"]), trainer)
    code = short_code(event["ada_booking"])
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    _refused("This code is not one of ours", check_in, session, wrong, trainer)
    _refused("This code is not one of ours", check_in, session, place_token(event["ada_booking"])[:-2] + "xx", trainer)
    _refused("This code is not one of ours", check_in, session, "999999-ABCDE", trainer)
    _refused("This code is not one of ours", check_in, session, "", trainer)
    event["bo_booking"].status = CANCELLED
    db.session.commit()
    _refused("Bo Quill has no confirmed place at this event", check_in, session, short_code(event["bo_booking"]), trainer)
    event["bo_booking"].status, event["bo_booking"].outcome = "confirmed", TURNED_AWAY
    db.session.commit()
    _refused("Bo Quill was marked as turned away", check_in, session, short_code(event["bo_booking"]), trainer)
    assert db.session.get(Booking, event["ada_booking"].id).outcome is None


def test_only_the_events_trainers_and_only_on_its_days(app, event, set_now):
    set_now(at_london(DAY - timedelta(days=1)))
    _refused("can be marked from 3 March 2027", check_in, event["session"], short_code(event["ada_booking"]),
             event["trainer"])
    set_now(at_london(DAY.replace(hour=9)))
    _refused("Only this session’s trainers and the L&D team", check_in, event["session"],
             short_code(event["ada_booking"]), event["outsider"])
    assert check_in(event["session"], short_code(event["ada_booking"]), event["admin"]).result == CHECKED_IN


def test_people_confirm_their_own_arrival_during_the_event_only(app, event, set_now):
    session, ada = event["session"], event["ada"]
    set_now(at_london(DAY.replace(hour=8, minute=29)))
    _refused("You can confirm your arrival from 3 March 2027, 8:30am", self_check_in, session,
             event["ada_booking"], ada)
    set_now(at_london(DAY.replace(hour=8, minute=45)))
    assert self_check_in(session, event["ada_booking"], ada).result == CHECKED_IN
    db.session.commit()
    assert self_check_in(session, event["ada_booking"], ada).result == ALREADY
    _refused("You do not have a place at this event", self_check_in, session, None, event["outsider"])
    _refused("You do not have a place at this event", self_check_in, session, event["bo_booking"], ada)
    set_now(at_london(DAY.replace(hour=16, minute=31)))
    _refused("This event has ended", self_check_in, session, event["bo_booking"], event["bo"])


# ---------------------------------------------------------------- pages


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_scanner_page_typed_code_and_posted_scans(app, event, set_now, sign_in):
    set_now(at_london(DAY.replace(hour=9, minute=5)))
    client = sign_in(event["trainer"])
    app.config["WTF_CSRF_ENABLED"] = True  # after signing in: the scans must carry the page's token
    session_id = event["session"].id
    page = client.get(f"/registers/{session_id}/check-in").get_data(as_text=True)
    assert "0 of 2 people checked in." in page
    assert "vendor/jsQR.js" in page and "check_in.js" in page and "<script>" not in page
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)

    response = client.post(f"/registers/{session_id}/check-in",
                           data={"csrf_token": _csrf(page), "code": short_code(event["ada_booking"])},
                           follow_redirects=True)
    assert "Ada Lovelock is checked in." in response.get_data(as_text=True)
    assert "1 of 2 people checked in." in response.get_data(as_text=True)

    headers = {"X-CSRFToken": token}
    answer = client.post(f"/registers/{session_id}/check-in/scans", json={"code": place_token(event["bo_booking"])},
                         headers=headers).get_json()
    assert answer == {"result": "checked_in", "message": "Bo Quill is checked in.", "arrived": 2, "on_register": 2}
    answer = client.post(f"/registers/{session_id}/check-in/scans", json={"code": place_token(event["bo_booking"])},
                         headers=headers).get_json()
    assert answer["result"] == "already" and answer["message"] == "Bo Quill is already checked in (at 9:05am)."
    answer = client.post(f"/registers/{session_id}/check-in/scans", json={"code": place_token(event["elsewhere"])},
                         headers=headers).get_json()
    assert answer["result"] == "refused" and "another event" in answer["message"]
    assert client.post(f"/registers/{session_id}/check-in/scans", json={"nothing": 1},
                       headers=headers).status_code == 422
    assert client.post(f"/registers/{session_id}/check-in/scans",
                       json={"code": short_code(event["ada_booking"])}).status_code == 400, "CSRF is required"
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)
                             .where(AccessLogEntry.viewer_id == event["trainer"].id)) >= 3

    typed = client.post(f"/registers/{session_id}/check-in", data={"csrf_token": _csrf(page), "code": "12-nope"})
    assert "This code is not one of ours" in typed.get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = False
    assert sign_in(event["outsider"]).get(f"/registers/{session_id}/check-in").status_code == 403
    assert sign_in(event["ada"]).get(f"/registers/{session_id}/check-in").status_code == 403


def test_door_code_leads_to_confirming_ones_own_arrival(app, event, set_now, sign_in):
    set_now(at_london(DAY.replace(hour=9, minute=20)))
    session_id = event["session"].id
    door = sign_in(event["trainer"]).get(f"/registers/{session_id}/door-code").get_data(as_text=True)
    assert "<svg" in door
    link = f"/check-in/{door_token(session_id)}"
    assert link in door
    client = sign_in(event["ada"])
    page = client.get(link).get_data(as_text=True)
    assert "Confirm I have arrived" in page
    done = client.post(link, data={}).get_data(as_text=True)
    assert "You are checked in" in done and "9:20am" in done
    assert db.session.get(Booking, event["ada_booking"].id).outcome == ATTENDED
    assert "You are checked in" in client.get(link).get_data(as_text=True)
    stranger = sign_in(event["outsider"]).get(link).get_data(as_text=True)
    assert "You do not have a confirmed place" in stranger
    assert sign_in(event["ada"]).get("/check-in/not-a-token").status_code == 404
    assert app.test_client().get(link).status_code == 302, "signed-in people only"


def test_workshop_lists_for_the_leads(app, event, set_now, sign_in):
    set_now(at_london(DAY - timedelta(days=2)))
    session = event["session"]
    a1, a2, b1 = session.workshops[:3]
    choose_workshops(event["ada_booking"], [a2.id, b1.id], event["ada"])
    choose_workshops(event["bo_booking"], [a1.id], event["bo"])
    db.session.commit()
    client = sign_in(event["trainer"])
    assert "Who chose each workshop" in client.get(f"/registers/{session.id}").get_data(as_text=True)
    response = client.get(f"/registers/{session.id}/workshops.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [(r["Workshop"], r["Name"], r["Starts"]) for r in rows] == [
        ("A1 Neglect", "Bo Quill", "11:00am"), ("A2 Online harm", "Ada Lovelock", "11:00am"),
        ("B1 Voice of the child", "Ada Lovelock", "2:00pm")]
    assert sign_in(event["outsider"]).get(f"/registers/{session.id}/workshops.csv").status_code == 403
    entries = db.session.scalars(select(AccessLogEntry.endpoint).where(AccessLogEntry.viewer_id == event["trainer"].id))
    assert "attendance.workshop_lists_csv" in list(entries)
