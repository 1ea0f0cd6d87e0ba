"""Calendar invitations read the way Outlook, Exchange and Google read them.

Every message arrives at a real SMTP server. A meeting request is a text/calendar part with its
method parameter in the message body's multipart/alternative, beside the text and HTML; its
calendar holds one UID (iTIP, RFC 5546), an ORGANIZER and the person as ATTENDEE. Each calendar is
read by two independent parsers (icalendar and vobject), which must agree.
"""
from __future__ import annotations

from datetime import datetime, timezone

import vobject
from icalendar import Calendar

from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.courses.changes import cancel_session, change_session_time
from app.courses.scheduling import PartTimes
from app.extensions import db
from app.jobs import run_jobs
from tests.bookings.conftest import subject

UTC = timezone.utc


def meeting(message) -> dict:
    """The one calendar in `message`, checked part by part as a mail program finds it."""
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1, "one calendar per message (iMIP, RFC 6047)"
    [part] = calendars
    assert message.get_content_type() in ("multipart/mixed", "multipart/alternative")
    [alternative] = [p for p in message.walk() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    assert part.get_content_disposition() is None, "a body part, not an attachment"
    assert list(message.iter_attachments()) == [], "no second copy for Outlook to show as another meeting"
    assert part.get_content_charset() == "utf-8"
    method = part.get_param("method")
    body = part.get_payload(decode=True)

    first = Calendar.from_ical(body)
    assert str(first["METHOD"]) == method
    [event] = first.walk("VEVENT")
    [attendee] = [event["ATTENDEE"]]
    found = {
        "method": method,
        "uid": str(event["UID"]),
        "sequence": int(event["SEQUENCE"]),
        "status": str(event["STATUS"]),
        "organizer": str(event["ORGANIZER"]).lower(),
        "attendee": str(attendee).lower(),
        "partstat": attendee.params["PARTSTAT"],
        "rsvp": attendee.params["RSVP"],
        "start": event.decoded("DTSTART").astimezone(UTC),
    }

    second = vobject.readOne(body.decode("utf-8"))
    assert second.method.value == method
    [other] = second.vevent_list
    assert len({c.uid.value for c in second.vevent_list}) == 1
    assert {
        "method": second.method.value,
        "uid": other.uid.value,
        "sequence": int(other.sequence.value),
        "status": other.status.value,
        "organizer": other.organizer.value.lower(),
        "attendee": other.attendee.value.lower(),
        "partstat": other.attendee.params["PARTSTAT"][0],
        "rsvp": other.attendee.params["RSVP"][0],
        "start": other.dtstart.value.astimezone(UTC),
    } == found
    return found


def meetings(mailbox, address: str, starting: str) -> list[dict]:
    return [meeting(m) for m in mailbox.to(address) if subject(m).startswith(starting)]


def _uid(session, part) -> str:
    return f"session-{session.id}-part-{part.id}@localhost"


def _check_people(found: dict, person) -> None:
    assert found["organizer"] == "mailto:training@northbridge-scp.example"
    assert found["attendee"] == f"mailto:{person.email}"
    assert (found["partstat"], found["rsvp"]) == ("ACCEPTED", "FALSE")


def test_a_confirmation_is_a_meeting_request_its_update_raises_the_sequence_and_a_cancellation_matches(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(capacity=10)
    admin = make_user(roles=("admin",))
    person = make_user(email="amara@example.org")
    booking = book_place(session, person, person)
    db.session.commit()
    deliver()
    [invite] = meetings(mailbox, person.email, "Booking confirmed")
    assert invite["method"] == "REQUEST" and invite["status"] == "CONFIRMED"
    assert invite["uid"] == _uid(session, session.parts[0])
    _check_people(invite, person)

    change_session_time(session, [PartTimes(datetime(2027, 3, 22, 10, 0), datetime(2027, 3, 22, 16, 0))], admin)
    db.session.commit()
    run_jobs("notify_session_changes")
    deliver()
    [update] = meetings(mailbox, person.email, "Session changed")
    assert update["method"] == "REQUEST" and update["uid"] == invite["uid"]
    assert update["sequence"] > invite["sequence"]
    assert update["start"] == datetime(2027, 3, 22, 10, 0, tzinfo=UTC)
    _check_people(update, person)

    cancel_booking(db.session.get(type(booking), booking.id), person)
    db.session.commit()
    deliver()
    [cancel] = meetings(mailbox, person.email, "Booking cancelled")
    assert cancel["method"] == "CANCEL" and cancel["status"] == "CANCELLED"
    assert cancel["uid"] == invite["uid"] and cancel["sequence"] >= update["sequence"]
    _check_people(cancel, person)


def test_each_part_of_a_two_part_session_arrives_as_its_own_request_and_is_cancelled_part_by_part(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(days=2, capacity=10)
    admin = make_user(roles=("admin",))
    person = make_user(email="amara@example.org")
    book_place(session, person, person)
    db.session.commit()
    deliver()
    uids = [_uid(session, part) for part in session.parts]
    invites = meetings(mailbox, person.email, "Booking confirmed") + meetings(mailbox, person.email, "Calendar invitation")
    assert [i["uid"] for i in invites] == uids
    assert {i["method"] for i in invites} == {"REQUEST"}
    for invite in invites:
        _check_people(invite, person)
    [further] = [m for m in mailbox.to(person.email) if subject(m).startswith("Calendar invitation")]
    assert subject(further) == "Calendar invitation: Safeguarding Level 3 (part 2 of 2) on 23 March 2027"

    change_session_time(session, [PartTimes(datetime(2027, 3, 22, 9, 30), datetime(2027, 3, 22, 15, 30)),
                                  PartTimes(datetime(2027, 3, 29, 9, 30), datetime(2027, 3, 29, 15, 30))], admin)
    db.session.commit()
    run_jobs("notify_session_changes")
    deliver()
    updates = meetings(mailbox, person.email, "Session changed") + meetings(
        mailbox, person.email, "Calendar invitation")[1:]
    assert [u["uid"] for u in updates] == uids
    assert all(u["method"] == "REQUEST" and u["sequence"] > invites[0]["sequence"] for u in updates)
    assert updates[1]["start"] == datetime(2027, 3, 29, 8, 30, tzinfo=UTC)  # British Summer Time

    cancel_session(session, "The trainer is ill", admin)
    db.session.commit()
    run_jobs("notify_session_changes")
    deliver()
    cancels = meetings(mailbox, person.email, "Session cancelled") + meetings(mailbox, person.email, "Cancelled: ")
    assert [c["uid"] for c in cancels] == uids
    for cancel in cancels:
        assert cancel["method"] == "CANCEL" and cancel["status"] == "CANCELLED"
        assert cancel["sequence"] >= updates[0]["sequence"]
        _check_people(cancel, person)


def test_a_message_that_carries_no_place_carries_no_calendar(app, now, make_user, make_session, mailbox, deliver):
    session = make_session(capacity=1, days=2)
    first, waiting = make_user(), make_user()
    book_place(session, first, first)
    book_place(session, waiting, waiting)
    db.session.commit()
    deliver()
    [message] = mailbox.to(waiting.email)
    assert subject(message).startswith("You are on the waiting list")
    assert [p for p in message.walk() if p.get_content_type() == "text/calendar"] == []


def test_a_part_taken_away_from_a_session_is_cancelled_by_its_own_uid(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(days=2)
    admin = make_user(roles=("admin",))
    person = make_user(email="amara@example.org")
    book_place(session, person, person)
    db.session.commit()
    deliver()
    first, second = [_uid(session, part) for part in session.parts]
    [kept_start, removed_start] = [part.starts_at for part in session.parts]

    # The two days become one: the first part keeps its UID, the second is taken away.
    change_session_time(session, [PartTimes(datetime(2027, 3, 22, 9, 30), datetime(2027, 3, 22, 15, 30))], admin)
    db.session.commit()
    mailbox.clear()
    run_jobs("notify_session_changes")
    deliver()
    [update] = meetings(mailbox, person.email, "Session changed")
    assert update["method"] == "REQUEST" and update["uid"] == first
    [removed] = meetings(mailbox, person.email, "Cancelled: ")
    assert removed["method"] == "CANCEL" and removed["status"] == "CANCELLED"
    assert removed["uid"] == second and removed["sequence"] >= update["sequence"]
    assert removed["start"] == removed_start.replace(tzinfo=UTC)
    _check_people(removed, person)
    assert kept_start != removed_start

    # Told once: a second run of the job sends nothing more.
    run_jobs("notify_session_changes")
    assert deliver()[0] == 0
