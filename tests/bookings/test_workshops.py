"""Conference workshops: choosing one per time slot, places per workshop, changing until choices
close, and the person's own programme in their invitation (issue 17)."""
from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import ADMIN
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.errors import BookingError
from app.bookings.check_in_codes import short_code
from app.bookings.models import AWAITING_APPROVAL, WAITING, Booking, BookingEvent, WorkshopChoice
from app.bookings.demo import choose_conference_workshops, load_bookings
from app.bookings.workshops import (
    change_workshops,
    choose_workshops,
    programme_lines,
    slots,
    workshop_places_taken,
)
from app.courses.demo import load_programme
from app.courses.models import Session
from app.demo import load_people
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


# ---------------------------------------------------------------- pages


def test_event_page_lists_plenaries_workshops_leads_and_places(app, now, client, make_conference, make_attendee):
    conference = make_conference(workshop_places=2)
    person = make_attendee()
    booking = book_place(conference, person, person)
    choose_workshops(booking, _ids(conference, "A1"), person)
    db.session.commit()
    page = client.get(f"/sessions/{conference.id}").get_data(as_text=True)
    assert "Opening: learning from local reviews" in page and "Dr Ada Example, Independent Chair" in page
    assert "A1 Neglect" in page and "Sam Pattern" in page
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", page, re.S)
    places = {re.sub(r"<[^>]+>|\s+", " ", r).strip() for r in rows}
    assert any("A1 Neglect" in r and "1 of 2" in r for r in places), places
    assert any("A2 Online harm" in r and "2 of 2" in r for r in places), places
    assert any("Closing plenary" in r and "Everyone" in r for r in places), places


def test_booking_a_conference_with_workshops_then_changing_them(app, now, client, login_as, make_conference,
                                                                make_user, mailbox):
    conference = make_conference(workshop_places=1, choices_close_at=now + timedelta(days=10))
    person = make_user("Ada Example", "ada@example.org")
    login_as(person)
    form = client.get(f"/sessions/{conference.id}/book").get_data(as_text=True)
    assert "Choose your workshops" in form and "Workshop at 11:00am to 12:30pm" in form
    slot_a, slot_b = (s.key for s in slots(conference))
    a1, b2 = _ids(conference, "A1", "B2")
    response = client.post(f"/sessions/{conference.id}/book", data={slot_a: a1, slot_b: b2})
    assert response.status_code == 302
    [booking] = db.session.scalars(select(Booking).where(Booking.user_id == person.id)).all()
    assert [c.item.title for c in booking.workshop_choices] == ["A1 Neglect", "B2 Domestic abuse"]

    mine = client.get("/my-bookings").get_data(as_text=True)
    assert "Your check-in codes and programmes" in mine and "<svg" in mine
    assert short_code(booking) in mine and "Workshop: A1 Neglect" in mine
    assert "Change your workshops" in mine

    change = client.get(f"/bookings/{booking.id}/workshops").get_data(as_text=True)
    assert "Your programme" in change
    response = client.post(f"/bookings/{booking.id}/workshops", data={slot_a: "", slot_b: b2},
                           follow_redirects=True)
    assert "Your workshops are changed" in response.get_data(as_text=True)
    assert [c.item.title for c in booking.workshop_choices] == ["B2 Domestic abuse"]
    response = client.post(f"/bookings/{booking.id}/workshops", data={slot_a: "nonsense"}, follow_redirects=True)
    assert "not part of this event" in response.get_data(as_text=True)
    assert response.status_code == 200
    assert [c.item.title for c in booking.workshop_choices] == ["B2 Domestic abuse"]


def test_a_full_workshop_refuses_the_whole_booking_with_its_reason(app, now, client, login_as, make_conference,
                                                                 make_user, make_attendee):
    conference = make_conference(workshop_places=1)
    first = make_attendee()
    choose_workshops(book_place(conference, first, first), _ids(conference, "A1"), first)
    db.session.commit()
    person = make_user()
    login_as(person)
    slot_a = slots(conference)[0].key
    page = client.get(f"/sessions/{conference.id}/book").get_data(as_text=True)
    assert re.search(r'value="%d"[^>]*disabled' % _ids(conference, "A1")[0], page), "a full workshop cannot be picked"
    response = client.post(f"/sessions/{conference.id}/book", data={slot_a: _ids(conference, "A1")[0]},
                           follow_redirects=True)
    assert "A1 Neglect is full" in response.get_data(as_text=True)
    assert db.session.scalar(select(Booking).where(Booking.user_id == person.id)) is None


def test_someone_elses_workshops_page_is_not_found(app, now, client, login_as, make_conference, make_user,
                                                   make_attendee):
    conference = make_conference()
    other = make_attendee()
    booking = book_place(conference, other, other)
    db.session.commit()
    login_as(make_user())
    assert client.get(f"/bookings/{booking.id}/workshops").status_code == 404



def test_the_demo_has_conferences_whose_workshops_people_chose(app, now):
    load_people(random.Random(1))
    load_programme(random.Random(1))
    load_bookings(random.Random(1))
    assert "workshop choices at 2 conferences" in choose_conference_workshops(random.Random(1))
    conferences = [s for s in db.session.scalars(select(Session)) if s.is_conference]
    assert any(s.starts_at > now for s in conferences), "one still to come, to book and choose"
    for session in conferences:
        assert session.choices_close_at < session.starts_at
        assert all(w.leads and w.capacity for w in session.workshops)
        taken = workshop_places_taken(w.id for w in session.workshops)
        assert sum(taken.values()) > 0
        assert all(taken[w.id] <= w.capacity for w in session.workshops)
        for booking in db.session.scalars(select(Booking).where(Booking.session_id == session.id)):
            starts = [c.item.starts_at for c in booking.workshop_choices]
            assert len(starts) == len(set(starts)), "one workshop per slot"


def test_a_place_held_for_the_manager_has_its_programme_but_no_code_yet(app, now, client, login_as,
                                                                       make_conference, make_user, make_booking):
    conference = make_conference()
    person = make_user()
    booking = make_booking(conference, person, status=AWAITING_APPROVAL)
    choose_workshops(booking, _ids(conference, "B2"), person)
    db.session.commit()
    login_as(person)
    mine = client.get("/my-bookings").get_data(as_text=True)
    assert "Your check-in code comes when your place is confirmed." in mine
    assert short_code(booking) not in mine and "<svg" not in mine
    assert "Workshop: B2 Domestic abuse" in mine and "Change your workshops" in mine


def test_workshops_keep_the_events_reserved_share_until_release(app, now, set_now, make_conference, make_attendee,
                                                               make_agency, make_sector):
    police = make_agency("Metropolitan Police North", sector="Police")
    school = make_agency("Hillcrest Primary", sector="Education - schools")
    # 4 of the 10 places are kept for the police; so a three-place workshop keeps 1 of its 3.
    conference = make_conference(capacity=10, workshop_places=3, reservations=[(make_sector("Police"), 4)],
                                 reservation_release_days=7)
    [a1] = _ids(conference, "A1")
    teachers = [make_attendee(agency=school) for _ in range(3)]
    officer = make_attendee(agency=police)
    places = [book_place(conference, person, person) for person in teachers + [officer]]
    db.session.commit()
    assert places[-1].reservation_id is not None and places[0].reservation_id is None
    for booking, person in zip(places[:2], teachers[:2]):
        choose_workshops(booking, [a1], person)
    db.session.commit()
    _refused("The places left at A1 Neglect are kept for other agencies or sectors until 15 March 2027",
             choose_workshops, places[2], [a1], teachers[2])
    assert [s.left[a1] for s in slots(conference)[:1]] == [1]
    set_now(conference.starts_at - timedelta(days=7))  # released: the last place is anyone's
    choose_workshops(places[2], [a1], teachers[2])
    db.session.commit()
    _refused("A1 Neglect is full", choose_workshops, places[3], [a1], officer)


def test_a_reserved_place_at_a_workshop_goes_to_its_pool(app, now, make_conference, make_attendee, make_agency,
                                                          make_sector):
    police = make_agency("Metropolitan Police North", sector="Police")
    school = make_agency("Hillcrest Primary", sector="Education - schools")
    conference = make_conference(capacity=10, workshop_places=3, reservations=[(make_sector("Police"), 4)])
    [a1] = _ids(conference, "A1")
    teachers = [make_attendee(agency=school) for _ in range(2)]
    officer = make_attendee(agency=police)
    places = [book_place(conference, person, person) for person in teachers + [officer]]
    db.session.commit()
    for booking, person in zip(places, teachers + [officer]):
        choose_workshops(booking, [a1], person)
    db.session.commit()
    assert len(places[2].workshop_choices) == 1


def test_the_l_and_d_team_changes_someones_workshops_after_choices_close(app, now, set_now, client, login_as,
                                                                        make_conference, make_user, make_attendee):
    conference = make_conference(choices_close_at=now + timedelta(days=1))
    person = make_attendee("Ada Example")
    booking = book_place(conference, person, person)
    db.session.commit()
    set_now(now + timedelta(days=2))
    login_as(make_user(roles=("admin",)))
    assert "Their workshops" in client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
    page = client.get(f"/bookings/{booking.id}/workshops").get_data(as_text=True)
    assert "Workshops of Ada Example" in page and "Save my workshops" in page
    slot_a = slots(conference)[0].key
    response = client.post(f"/bookings/{booking.id}/workshops", data={slot_a: _ids(conference, "A2")[0]},
                           follow_redirects=True)
    assert "Ada Example’s workshops are changed" in response.get_data(as_text=True)
    assert [c.item.title for c in booking.workshop_choices] == ["A2 Online harm"]
    client.post("/sign-out")
    login_as(make_user(roles=("coordinator", "trainer")))
    assert client.get(f"/bookings/{booking.id}/workshops").status_code == 404
