"""The demo step marks past registers when there are bookings, and does nothing when there are none."""
import random
from datetime import datetime

from sqlalchemy import select

from app.attendance.demo import mark_past_registers
from app.attendance.models import CHARGE_WAIVED, Charge
from app.bookings.models import Booking
from app.extensions import db
from tests.attendance.conftest import at_london


def test_demo_marks_past_sessions_with_a_walk_in_and_a_waived_charge(
        app, make_user, make_agency, make_session, make_booking, set_now):
    make_user(name="Adaeze Fairweather", roles=("admin",))
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    agency = make_agency()
    people = [make_user(agency=agency) for _ in range(30)]
    set_now(at_london(datetime(2027, 6, 1, 9, 0)))
    assert mark_past_registers(random.Random(1)) == "attendance: no past sessions with confirmed bookings to mark"

    past = make_session(trainers=[trainer], start=datetime(2027, 3, 3, 9, 30))
    future = make_session(trainers=[trainer], start=datetime(2027, 7, 7, 9, 30))
    for person in people[:25]:
        make_booking(past, person)
    make_booking(future, people[0])
    summary = mark_past_registers(random.Random(7))
    db.session.commit()

    past_bookings = db.session.scalars(select(Booking).where(Booking.session_id == past.id)).all()
    assert all(b.outcome for b in past_bookings)
    assert sum(b.walk_in for b in past_bookings) == 1 and len(past_bookings) == 26
    assert db.session.scalars(select(Booking).where(Booking.session_id == future.id)).one().outcome is None
    charges = db.session.scalars(select(Charge)).all()
    assert charges and [c.status for c in charges].count(CHARGE_WAIVED) == 1
    assert summary.startswith("attendance: 25 marked, 1 walk-in") and "(1 waived)" in summary
