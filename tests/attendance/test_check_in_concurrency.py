"""Each place counts once: the same code scanned on eight phones at once, over HTTP (CSRF on,
real sign-in), on SQLite and PostgreSQL, marks the person once, in one history row (issue 17)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import TRAINER, RoleGrant
from app.bookings.check_in_codes import short_code
from app.bookings.models import ATTENDED, Booking, BookingEvent
from app.extensions import db
from tests.attendance.conftest import DAY, at_london
from tests.bookings.test_concurrency import Browser, _in_parallel, _people
from tests.e2e.conftest import live_server  # noqa: F401  (the threaded HTTP server, CSRF on)

PHONES = 8


def test_one_code_scanned_on_eight_phones_at_once_counts_once(app, live_server, set_now, make_conference,
                                                              make_agency, make_booking):
    agency = make_agency("Northbridge Council")
    organisers = _people([agency], PHONES, "Organiser")
    db.session.add_all(RoleGrant(user=person, role=TRAINER) for person in organisers)
    db.session.commit()
    conference = make_conference(starts_at=DAY, trainers=tuple(organisers))
    booking = make_booking(conference)
    set_now(at_london(DAY.replace(hour=9)))
    code = short_code(booking)
    browsers = [Browser(live_server.url) for _ in organisers]
    tokens: dict[int, str] = {}
    emails = [p.email for p in organisers]
    path = f"/registers/{conference.id}/check-in"

    def job(index):
        def prepare():
            browsers[index].sign_in(emails[index])
            tokens[index] = browsers[index].token(path)

        def act():
            return browsers[index].request(path, {"csrf_token": tokens[index], "code": code})[0]

        return prepare, act

    statuses = _in_parallel([job(i) for i in range(PHONES)])

    assert statuses == [302] * PHONES, "every scan answered: checked in, or already checked in"
    db.session.commit()  # a fresh transaction that sees what the requests committed
    assert db.session.get(Booking, booking.id).outcome == ATTENDED
    assert db.session.scalar(select(func.count()).select_from(BookingEvent).where(
        BookingEvent.booking_id == booking.id, BookingEvent.to_outcome == ATTENDED)) == 1
