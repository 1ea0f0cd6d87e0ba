"""Bookings' tests: the clock, and helpers to read the messages and invitations that arrive.

The programme's rows come from the shared factories (tests/factories.py)."""
from __future__ import annotations

from datetime import datetime

import pytest
from icalendar import Calendar

from tests.factories import START  # noqa: F401  (the tests import it from here)

# Monday 1 March 2027, 9am UK (GMT): "now" in most tests; sessions start three weeks later (START).
NOW = datetime(2027, 3, 1, 9, 0)


@pytest.fixture
def now(set_now):
    set_now(NOW)
    return NOW


def invites(message) -> list[tuple[str, Calendar]]:
    """The calendars of a received message, wherever they are: (the MIME method parameter, parsed calendar)."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            found.append((part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))))
    return found


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def subject(message) -> str:
    """The subject as a mail program shows it (a long one is folded onto a second line)."""
    return str(message["Subject"]).strip()
