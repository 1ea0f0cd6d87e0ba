"""Conference workshops: choosing one per time slot, places per workshop, changing until choices
close, and the person's own programme in their invitation (issue 17)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import ADMIN
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.errors import BookingError
from app.bookings.models import BookingEvent, WAITING, WorkshopChoice
from app.bookings.workshops import change_workshops, choose_workshops, programme_lines, slots
from app.extensions import db
from app.jobs import run_jobs
from tests.bookings.conftest import invites, subject, text_of


def _ids(session, *titles):
    by_title = {w.title.split()[0]: w.id for w in session.workshops}
    return [by_title[t] for t in titles]


def _refused(message, func, *args):
    with pytest.raises(BookingError) as caught:
        func(*args)
    db.session.rollback()
    assert message in caught.value.message, caught.value.message


def test_people_choose_one_workshop_per_slot_and_places_run_out(app, now, make_conference, make_attendee):
    conference = make_conference(workshop_places=1)
    first, second = make_attendee("Ada First"), make_attendee("Bo Second")
    one = book_place(conference, first, first)
    choose_workshops(one, _ids(conference, "A1", "B2"), first)
    db.session.commit()
    assert [c.item.title for c in one.workshop_choices] == ["A1 Neglect", "B2 Domestic abuse"]

    two = book_place(conference, second, second)
    db.session.commit()
    _refused("A1 Neglect is full. Choose another workshop", choose_workshops, two, _ids(conference, "A1"), second)
    _refused("Choose one workshop at", choose_workshops, two, _ids(conference, "A2", "B1") + _ids(conference, "B2"), second)
    assert db.session.scalars(select(WorkshopChoice).where(WorkshopChoice.booking_id == two.id)).all() == []

    choose_workshops(two, _ids(conference, "A2"), second)
    db.session.commit()
    left = {w.title: n for slot in slots(conference) for w in slot.workshops for n in [slot.left[w.id]]}
    assert left == {"A1 Neglect": 0, "A2 Online harm": 0, "B1 Voice of the child": 1, "B2 Domestic abuse": 0}
    reasons = [e.reason for e in db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == two.id))]
    assert "Workshops chosen: A2 Online harm" in reasons


def test_a_cancelled_place_frees_its_workshops(app, now, make_conference, make_attendee):
    conference = make_conference(workshop_places=1)
    first, second = make_attendee(), make_attendee()
    one = book_place(conference, first, first)
    choose_workshops(one, _ids(conference, "A1"), first)
    db.session.commit()
    cancel_booking(one, first)
    db.session.commit()
    two = book_place(conference, second, second)
    choose_workshops(two, _ids(conference, "A1"), second)
    db.session.commit()
    assert [c.item.title for c in two.workshop_choices] == ["A1 Neglect"]


def test_only_a_place_chooses_and_only_this_events_workshops(app, now, make_conference, make_attendee):
    conference = make_conference(capacity=1)
    other = make_conference()
    first, second = make_attendee(), make_attendee()
    book_place(conference, first, first)
    waiting = book_place(conference, second, second)
    db.session.commit()
    assert waiting.status == WAITING
    _refused("once you have a place", choose_workshops, waiting, _ids(conference, "A1"), second)
    mine = book_place(other, first, first)
    db.session.commit()
    _refused("not part of this event", choose_workshops, mine, _ids(conference, "A1"), first)
    _refused("not part of this event", choose_workshops, mine, [-1], first)


def test_choices_close_for_people_but_not_for_the_l_and_d_team(app, now, set_now, make_conference, make_attendee,
                                                               make_user):
    conference = make_conference(choices_close_at=now + timedelta(days=7))
    person = make_attendee()
    booking = book_place(conference, person, person)
    choose_workshops(booking, _ids(conference, "A1"), person)
    db.session.commit()
    set_now(now + timedelta(days=7, minutes=1))
    _refused("Workshop choices closed on", choose_workshops, booking, _ids(conference, "A2"), person)
    admin = make_user("Lee Admin", roles=(ADMIN,))
    choose_workshops(booking, _ids(conference, "A2"), admin)
    db.session.commit()
    assert [c.item.title for c in booking.workshop_choices] == ["A2 Online harm"]


def test_one_invitation_carries_the_persons_own_programme(app, now, make_conference, make_attendee, mailbox):
    conference = make_conference()
    person = make_attendee("Ada Example", "ada@example.org")
    booking = book_place(conference, person, person)
    choose_workshops(booking, _ids(conference, "A2", "B1"), person)
    db.session.commit()
    run_jobs()
    [message] = mailbox.to("ada@example.org")
    assert "Your check-in code:" in text_of(message)
    [(method, calendar)] = invites(message)
    [event] = calendar.walk("VEVENT")
    description = str(event["DESCRIPTION"])
    assert "Your programme:" in description
    assert "09:30–11:00 Opening: learning from local reviews (Dr Ada Example, Independent Chair), Main hall" in description
    assert "Workshop: A2 Online harm (Kit Placeholder)" in description
    assert "Workshop: B1 Voice of the child" in description
    assert "A1 Neglect" not in description and "B2 Domestic abuse" not in description

    mailbox.clear()
    assert change_workshops(booking, _ids(conference, "A1", "B1"), person)
    db.session.commit()
    run_jobs()
    [message] = mailbox.to("ada@example.org")
    assert subject(message).startswith("Your programme: Annual Safeguarding Conference")
    assert "Workshop: A1 Neglect" in text_of(message)
    [(method, calendar)] = invites(message)
    assert method == "REQUEST"
    assert "Workshop: A1 Neglect" in str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    assert programme_lines(booking)[1].endswith("Workshop: A1 Neglect (Sam Pattern)")
    assert not change_workshops(booking, _ids(conference, "A1", "B1"), person), "the same choice changes nothing"
