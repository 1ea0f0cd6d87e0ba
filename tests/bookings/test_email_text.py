"""Plain-text e-mails as they arrive: paragraphs apart, as a mail program shows them."""
from __future__ import annotations

import re

from app.bookings import approvals
from app.bookings.booking import book_place
from app.bookings.line_manager import answer_approval
from app.bookings.approvals import AGREE
from app.extensions import db
from tests.bookings.conftest import text_of


def _paragraphs(body: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", body.strip())]


def _apart(body: str, before: str, after: str) -> None:
    """`before` and `after` are in different paragraphs (a blank line between them)."""
    paragraphs = _paragraphs(body)
    [first] = [i for i, p in enumerate(paragraphs) if before in p]
    [second] = [i for i, p in enumerate(paragraphs) if after in p]
    assert first != second, f"{before!r} runs into {after!r}:\n{body}"


def test_the_manager_asked_and_confirmed_emails_keep_blank_lines_between_paragraphs(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    session = make_session(course=make_course(requires_manager_approval=True),
                           joining_instructions="Please arrive by 9:15 and sign in at reception.", capacity=10)
    person = make_user(name="Lena Marchbank", email="lena@example.org", line_manager_email="morag@example.org")
    booking = book_place(session, person, person)
    db.session.commit()
    deliver()
    [asked] = mailbox.to("morag@example.org")
    body = text_of(asked).replace("\r\n", "\n")
    _apart(body, "NB1 1AA", "To agree, open this link:")
    _apart(body, "To agree", "To decline")
    _apart(body, "Hello,", "has booked a place")
    _apart(body, "has booked a place", "Course: Safeguarding Level 3")
    assert "Course: Safeguarding Level 3\nWhen: " in body, "the session's lines stay together"
    assert "\n\n\n" not in body

    token = next(line for line in body.splitlines() if "/approvals/" in line).strip().rsplit("/", 1)[1]
    found, decision = approvals.booking_for_approval(token)
    answer_approval(found, decision)
    db.session.commit()
    deliver()
    agreed = mailbox.to("lena@example.org")[-1]
    body = text_of(agreed).replace("\r\n", "\n")
    _apart(body, "NB1 1AA", "Joining instructions:")
    assert "Joining instructions:\nPlease arrive by 9:15" in body
    _apart(body, "Please arrive by 9:15", "calendar invitation")
    _apart(body, "calendar invitation", "in My bookings")
    assert "\n\n\n" not in body
    assert booking.status == "confirmed"


def test_the_confirmation_keeps_blank_lines_between_paragraphs(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(online_url="https://meet.example/abc",
                           joining_instructions="Please arrive by 9:15 and sign in at reception.", capacity=10)
    person = make_user(name="Amara Okonkwo-Bray", email="amara@example.org")
    book_place(session, person, person, access_needs="Step-free access")
    db.session.commit()
    deliver()
    [confirmed] = mailbox.to("amara@example.org")
    body = text_of(confirmed).replace("\r\n", "\n")
    for before, after in [("Dear Amara", "Your place is booked."), ("Your place is booked.", "Course:"),
                          ("NB1 1AA", "Join online:"), ("Join online:", "Joining instructions:"),
                          ("Please arrive by 9:15", "calendar invitation"),
                          ("calendar invitation", "access or dietary needs"),
                          ("access or dietary needs", "If you can no longer come"),
                          ("/my-bookings", "Please cancel at least"), ("Please cancel at least", "--")]:
        _apart(body, before, after)
    assert "Course: Safeguarding Level 3\nWhen: " in body and "\n\n\n" not in body
