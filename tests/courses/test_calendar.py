"""The calendar feeds, read back by two independent parsers (icalendar and vobject).

vobject builds its time zones from the feed's own VTIMEZONE (through dateutil), while icalendar
resolves the TZID against the system's zone database: agreeing on UTC moments either side of a
clock change checks both the TZID and the VTIMEZONE rules Outlook relies on.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
import vobject
from dateutil import tz as dateutil_tz
from icalendar import Calendar

from app.courses.models import DRAFT
from app.courses.changes import cancel_session, change_session_time, change_session_venue
from app.extensions import db
from tests.courses.conftest import parts

UTC = timezone.utc


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def fetch(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith('.ics"')
    return response.data


def icalendar_events(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["METHOD"] == "PUBLISH"
    assert calendar["X-PUBLISHED-TTL"] == "PT6H"  # subscribed calendars check for changes
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/London"
    events = {}
    for event in calendar.walk("VEVENT"):
        events[str(event["UID"])] = {
            "start": event.decoded("DTSTART"), "end": event.decoded("DTEND"),
            "tzid": event["DTSTART"].params.get("TZID"), "sequence": int(event["SEQUENCE"]),
            "summary": str(event["SUMMARY"]), "location": str(event["LOCATION"]),
            "description": str(event["DESCRIPTION"]), "status": str(event["STATUS"]),
            "dtstamp": event.decoded("DTSTAMP"), "last_modified": event.decoded("LAST-MODIFIED"),
        }
    return events


def vobject_events(body: bytes) -> dict[str, dict]:
    calendar = vobject.readOne(body.decode("utf-8"))
    events = {}
    for event in calendar.vevent_list:
        events[event.uid.value] = {
            "start": event.dtstart.value, "end": event.dtend.value, "sequence": int(event.sequence.value),
            "summary": event.summary.value, "location": event.location.value,
            "description": event.description.value, "status": event.status.value,
            "dtstamp": event.dtstamp.value,
        }
    return events


def vtimezone_offsets(body: bytes, *moments: datetime) -> list[float]:
    """UTC offsets (hours) the feed's own VTIMEZONE gives at London wall-clock moments."""
    text = body.decode("utf-8").replace("\r\n ", "")
    block = text[text.index("BEGIN:VTIMEZONE"): text.index("END:VTIMEZONE") + len("END:VTIMEZONE")]
    zone = dateutil_tz.tzical(io.StringIO(block)).get("Europe/London")
    return [moment.replace(tzinfo=zone).utcoffset().total_seconds() / 3600 for moment in moments]


@pytest.fixture
def clock_change_sessions(app, now, plan_session, make_course):
    """One session in GMT (26 March 2027) and a two-part one across the change to BST (28 March)."""
    course = make_course(title="Safeguarding Level 3", code="L3", level="Level 3")
    gmt = plan_session(course=course, days=[("2027-03-26", "09:30", "16:30")])
    both = plan_session(course=course, days=[("2027-03-26", "13:00", "16:00"), ("2027-03-30", "09:30", "16:30")])
    return gmt, both


def test_programme_feed_times_either_side_of_the_clock_change(client, clock_change_sessions):
    gmt, both = clock_change_sessions
    body = fetch(client, "/programme.ics")
    expected = {
        f"session-{gmt.id}-part-{gmt.parts[0].id}@localhost": (utc("2027-03-26 09:30"), utc("2027-03-26 16:30")),
        f"session-{both.id}-part-{both.parts[0].id}@localhost": (utc("2027-03-26 13:00"), utc("2027-03-26 16:00")),
        f"session-{both.id}-part-{both.parts[1].id}@localhost": (utc("2027-03-30 08:30"), utc("2027-03-30 15:30")),
    }
    for parsed in (icalendar_events(body), vobject_events(body)):
        assert set(parsed) == set(expected)
        for uid, (start, end) in expected.items():
            assert parsed[uid]["start"].astimezone(UTC) == start
            assert parsed[uid]["end"].astimezone(UTC) == end
            # Written as London wall-clock time: 9:30 stays 9:30 on both sides of the change.
            assert parsed[uid]["start"].utcoffset() is not None
    london = icalendar_events(body)
    assert {e["tzid"] for e in london.values()} == {"Europe/London"}
    assert london[f"session-{both.id}-part-{both.parts[1].id}@localhost"]["start"].strftime("%H:%M") == "09:30"
    assert vtimezone_offsets(body, datetime(2027, 3, 26, 9, 30), datetime(2027, 3, 30, 9, 30),
                             datetime(2027, 10, 30, 9, 30), datetime(2027, 11, 1, 9, 30)) == [0, 1, 1, 0]


def test_every_field_is_there_and_agrees_between_parsers(client, clock_change_sessions):
    gmt, both = clock_change_sessions
    body = fetch(client, "/programme.ics")
    first, second = icalendar_events(body), vobject_events(body)
    for uid in first:
        for key in ("sequence", "summary", "location", "description", "status"):
            assert first[uid][key] == second[uid][key], key
        assert first[uid]["dtstamp"].astimezone(UTC) == second[uid]["dtstamp"].astimezone(UTC)
        assert first[uid]["dtstamp"].tzinfo is not None
        assert first[uid]["last_modified"] == datetime(2027, 1, 10, 12, 0, tzinfo=UTC)  # when it was set up
        assert first[uid]["status"] == "CONFIRMED" and first[uid]["sequence"] == 0
        assert first[uid]["location"] == "Civic Centre, 1 Town Hall Square, Northbridge NB1 1AA"
    one = first[f"session-{gmt.id}-part-{gmt.parts[0].id}@localhost"]
    assert one["summary"] == "Safeguarding Level 3"
    assert f"http://localhost/sessions/{gmt.id}" in one["description"]
    two = first[f"session-{both.id}-part-{both.parts[1].id}@localhost"]
    assert two["summary"] == "Safeguarding Level 3 (part 2 of 2)"
    assert f"http://localhost/sessions/{both.id}" in two["description"]


def test_uids_stay_and_sequence_rises_when_a_session_changes(client, admin, make_venue, clock_change_sessions):
    _, both = clock_change_sessions
    before = icalendar_events(fetch(client, "/courses/L3/programme.ics"))
    change_session_time(both, parts(("2027-03-26", "13:30", "16:00"), ("2027-03-31", "09:30", "16:30")), admin)
    change_session_venue(both, make_venue("Riverside Conference Hall", "Riverside Quay"), admin)
    db.session.commit()
    body = fetch(client, "/courses/L3/programme.ics")
    for after in (icalendar_events(body), vobject_events(body)):
        assert set(after) == set(before)
        uid = f"session-{both.id}-part-{both.parts[1].id}@localhost"
        assert after[uid]["sequence"] == before[uid]["sequence"] + 2
        assert after[uid]["start"].astimezone(UTC) == utc("2027-03-31 08:30")
        assert after[uid]["location"] == "Riverside Conference Hall, Riverside Quay"


def test_a_cancelled_session_stays_in_the_feed_marked_cancelled(client, admin, clock_change_sessions):
    gmt, _ = clock_change_sessions
    cancel_session(gmt, "The trainer is ill", admin)
    db.session.commit()
    body = fetch(client, "/programme.ics")
    uid = f"session-{gmt.id}-part-{gmt.parts[0].id}@localhost"
    for events in (icalendar_events(body), vobject_events(body)):
        assert events[uid]["status"] == "CANCELLED"
        assert events[uid]["sequence"] == 1
        assert events[uid]["summary"] == "CANCELLED: Safeguarding Level 3"
        assert "The trainer is ill" in events[uid]["description"]


def test_feeds_leave_out_drafts_past_sessions_and_other_courses(client, now, set_now, plan_session, make_course):
    course = make_course(code="SCR-PRAC", title="SCR workshop", level="Level 3")
    mine = plan_session(course=course, days=[("2027-02-01", "09:30", "12:30")])
    plan_session(course=course, status=DRAFT, days=[("2027-02-02", "09:30", "12:30")])
    other = plan_session(days=[("2027-02-03", "09:30", "12:30")])
    past = plan_session(course=course, days=[("2027-01-20", "09:30", "12:30")])
    set_now(datetime(2027, 1, 25))
    course_uids = set(icalendar_events(fetch(client, "/courses/scr-prac/programme.ics")))
    assert course_uids == {f"session-{mine.id}-part-{mine.parts[0].id}@localhost"}
    all_uids = set(vobject_events(fetch(client, "/programme.ics")))
    assert all_uids == course_uids | {f"session-{other.id}-part-{other.parts[0].id}@localhost"}
    assert past.id not in {int(uid.split("-")[1]) for uid in all_uids}
    assert client.get("/courses/NOPE/programme.ics").status_code == 404


def test_a_single_session_downloads_as_a_calendar_file(client, now, plan_session):
    session = plan_session(days=[("2027-03-30", "09:30", "16:30")])
    body = fetch(client, f"/sessions/{session.id}/calendar.ics")
    [event] = vobject_events(body).values()
    assert event["start"].astimezone(UTC) == utc("2027-03-30 08:30")
    draft = plan_session(status=DRAFT)
    assert client.get(f"/sessions/{draft.id}/calendar.ics").status_code == 404
