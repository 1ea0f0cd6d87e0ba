"""Never more people in a workshop than its places: twenty people with places at a conference
choosing the same three-place workshop at once, over HTTP (CSRF on, real sign-in), on SQLite and
on PostgreSQL (the workshop's row is locked and its places counted again, issue 17)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.bookings.models import HOLDS_PLACE, Booking, WorkshopChoice
from app.bookings.workshops import slots
from app.extensions import db
from tests.bookings.test_concurrency import Browser, _in_parallel, _people
from tests.e2e.conftest import live_server  # noqa: F401  (the threaded HTTP server, CSRF on)

PEOPLE = 20


def test_twenty_people_choosing_a_three_place_workshop_at_once(app, now, live_server, make_conference, make_agency):
    conference = make_conference(workshop_places=3)
    agency = make_agency("St Brigid's Hospital")
    people = _people([agency], PEOPLE, "Workshop")
    bookings = [Booking(session_id=conference.id, user_id=p.id, agency_id=agency.id, status="confirmed")
                for p in people]
    db.session.add_all(bookings)
    db.session.commit()
    slot_a = slots(conference)[0]
    [a1] = [w.id for w in slot_a.workshops if w.title.startswith("A1")]
    browsers = [Browser(live_server.url) for _ in people]
    tokens: dict[int, str] = {}
    booking_ids = [b.id for b in bookings]
    emails = [p.email for p in people]

    def job(index):
        def prepare():
            browsers[index].sign_in(emails[index])
            tokens[index] = browsers[index].token(f"/bookings/{booking_ids[index]}/workshops")

        def act():
            status, page = browsers[index].request(f"/bookings/{booking_ids[index]}/workshops",
                                                   {"csrf_token": tokens[index], slot_a.key: a1})
            return status, "A1 Neglect is full" in page

        return prepare, act

    answers = _in_parallel([job(i) for i in range(PEOPLE)])

    assert Counter(answers) == {(302, False): 3, (200, True): PEOPLE - 3}, Counter(answers)
    db.session.commit()  # a fresh transaction that sees what the requests committed
    taken = db.session.scalar(
        select(func.count()).select_from(WorkshopChoice).join(Booking, WorkshopChoice.booking_id == Booking.id)
        .where(WorkshopChoice.item_id == a1, Booking.status.in_(HOLDS_PLACE)))
    assert taken == 3
