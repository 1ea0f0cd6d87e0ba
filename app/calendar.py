"""The one place that builds iCalendar files: feeds, invitations and cancellations.

Every session part is one VEVENT whose UID never changes; SEQUENCE is the session's sequence,
raised by the courses services on every change people would care about. Times are written in
Europe/London with a VTIMEZONE of the compact RRULE form Outlook and Google both accept.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vText

from app.clock import LONDON, utcnow
from app.urls import external_url

CONTENT_TYPE = "text/calendar; charset=utf-8"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


def _clock_change(component: type, name: str, starts: datetime, hours_before: int,
                  hours_after: int) -> TimezoneDaylight | TimezoneStandard:
    """The yearly change to BST or GMT, on the last Sunday of the month it first happened in."""
    change = component()
    change.add("tzname", name)
    change.add("dtstart", starts)
    change.add("rrule", {"freq": "yearly", "bymonth": starts.month, "byday": "-1su"})
    change.add("tzoffsetfrom", _offset(hours_before))
    change.add("tzoffsetto", _offset(hours_after))
    return change


def _london_timezone() -> Timezone:
    tz = Timezone()
    tz.add("tzid", "Europe/London")
    tz.add_component(_clock_change(TimezoneDaylight, "BST", datetime(1970, 3, 29, 1, 0, 0), 0, 1))
    tz.add_component(_clock_change(TimezoneStandard, "GMT", datetime(1970, 10, 25, 2, 0, 0), 1, 0))
    return tz


def _offset(hours: int) -> timedelta:
    return timedelta(hours=hours)


def uid_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def part_uid(session_id: int, part_id: int) -> str:
    """The UID of one session part: fixed for the life of the part."""
    return f"session-{session_id}-part-{part_id}@{uid_domain()}"


def _london(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(LONDON)


def _location(session) -> str:
    if session.venue is not None:
        lines = [session.venue.name] + [
            line.strip() for line in (session.venue.address or "").splitlines() if line.strip()
        ]
        return ", ".join(lines)
    return "Online"


def session_url(session) -> str:
    """The session's public page."""
    return external_url("courses.session_detail", session_id=session.id)


def session_events(session, *, joining_link: bool = False, attendee=None, tentative: bool = False,
                   programme: list[str] | None = None) -> list[Event]:
    """One VEVENT per part of `session` (the online link only when `joining_link`; TENTATIVE when
    `tentative`, for a place held until the line manager answers; `programme`: the person's own
    programme at a conference, plenaries and their workshops, one line each)."""
    url = session_url(session)
    course = session.course
    cancelled = session.status == "cancelled"
    events = []
    total = len(session.parts)
    for number, part in enumerate(session.parts, start=1):
        event = Event()
        event.add("uid", part_uid(session.id, part.id))
        event.add("dtstamp", utcnow().replace(tzinfo=timezone.utc))
        event.add("sequence", session.sequence)
        if session.updated_at:
            event.add("last-modified", session.updated_at.replace(tzinfo=timezone.utc))
        title = course.title + (f" (part {number} of {total})" if total > 1 else "")
        event.add("summary", ("CANCELLED: " if cancelled else "") + title)
        event.add("dtstart", _london(part.starts_at))
        event.add("dtend", _london(part.ends_at))
        event.add("location", _location(session))
        description = [course.title, "", f"Details and booking: {url}"]
        if joining_link and session.online_url and not cancelled:
            description += ["", f"Join online: {session.online_url}"]
        if session.joining_instructions and joining_link:
            description += ["", session.joining_instructions]
        if programme and not cancelled:
            description += ["", "Your programme:"] + programme
        if cancelled and session.cancellation_reason:
            description += ["", f"This session has been cancelled: {session.cancellation_reason}"]
        elif tentative and not cancelled:
            description += ["", "Your place is held until your line manager agrees to it."]
        event.add("description", "\n".join(description))
        event.add("url", url)
        event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if tentative else "CONFIRMED")
        event.add("transp", "OPAQUE")
        if attendee is not None:
            _add_people(event, attendee)
        events.append(event)
    return events


def _add_people(event: Event, attendee) -> None:
    """The L&D team as ORGANIZER and the person as ATTENDEE: what makes an invitation a meeting."""
    organizer = vCalAddress(f"mailto:{current_app.config['L_AND_D_EMAIL']}")
    organizer.params["cn"] = vText(current_app.config["PARTNERSHIP_NAME"])
    event.add("organizer", organizer)
    who = vCalAddress(f"mailto:{attendee.email}")
    who.params["cn"] = vText(attendee.name)
    who.params["role"] = vText("REQ-PARTICIPANT")
    who.params["partstat"] = vText("ACCEPTED")
    who.params["rsvp"] = vText("FALSE")
    event.add("attendee", who)


def _calendar(method: str, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{current_app.config['PARTNERSHIP_NAME']}//Safeguarding training//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Europe/London")
        # Subscribed calendars look for changes this often (RFC 7986; Outlook reads the X- form).
        calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT6H")
    calendar.add_component(_london_timezone())
    return calendar


def feed(sessions, name: str) -> bytes:
    """A subscribable feed of sessions (cancelled ones stay in, marked CANCELLED)."""
    calendar = _calendar(PUBLISH, name)
    for session in sessions:
        for event in session_events(session):
            calendar.add_component(event)
    return calendar.to_ical()


class FeedEntry(NamedTuple):
    """One session in a person's own feed."""

    session: Any
    joining_link: bool  # the place is confirmed: show the online link and instructions
    tentative: bool  # the place is held until the line manager agrees


def personal_feed(entries: list[FeedEntry], name: str) -> bytes:
    """A person's own feed of their places."""
    calendar = _calendar(PUBLISH, name)
    for session, joining_link, tentative in entries:
        for event in session_events(session, joining_link=joining_link, tentative=tentative):
            calendar.add_component(event)
    return calendar.to_ical()


def invitations(session, attendee, method: str = REQUEST, programme: list[str] | None = None) -> list[bytes]:
    """Meeting invitations (REQUEST) or cancellations (CANCEL) for one person: one per part.

    iTIP (RFC 5546) carries one UID per calendar and iMIP (RFC 6047) one calendar per message, and
    Outlook reads only the first event of a REQUEST, so every part travels in a calendar of its own.
    """
    found = []
    for event in session_events(session, joining_link=method == REQUEST, attendee=attendee,
                                programme=programme if method == REQUEST else None):
        if method == CANCEL:
            event["status"] = "CANCELLED"
        calendar = _calendar(method)
        calendar.add_component(event)
        found.append(calendar.to_ical())
    return found


def removed_part_cancellation(session, attendee, part) -> bytes:
    """A CANCEL for a part the session no longer has (`part`: a RemovedPart, its row is gone)."""
    event = Event()
    event.add("uid", part.uid)
    event.add("dtstamp", utcnow().replace(tzinfo=timezone.utc))
    event.add("sequence", session.sequence)
    event.add("summary", f"CANCELLED: {session.course.title}")
    event.add("dtstart", _london(part.starts_at))
    event.add("dtend", _london(part.ends_at))
    event.add("description", f"This part of {session.course.title} no longer takes place. "
                             f"Details: {session_url(session)}")
    event.add("status", "CANCELLED")
    _add_people(event, attendee)
    calendar = _calendar(CANCEL)
    calendar.add_component(event)
    return calendar.to_ical()
