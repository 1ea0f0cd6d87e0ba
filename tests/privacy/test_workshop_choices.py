"""A person's workshop choices at a conference are in their subject access file, and erasing them
keeps the choices (counts of places) but nothing that names them (issue 17)."""
from __future__ import annotations

from datetime import datetime

from app.bookings.models import ATTENDED
from app.bookings.workshops import choose_workshops
from app.extensions import db
from app.privacy.erasure import erase_person
from app.privacy.subject_access import subject_access


def test_workshop_choices_are_in_the_file_and_survive_erasure_without_a_name(
        app, set_now, make_user, make_conference, make_booking):
    set_now(datetime(2027, 3, 1, 9, 0))
    conference = make_conference()
    person = make_user(name="Wren Workshopper")
    booking = make_booking(conference, person)
    [a2] = [w.id for w in conference.workshops if w.title.startswith("A2")]
    choose_workshops(booking, [a2], person)
    db.session.commit()

    sections = subject_access(person).as_dict()["sections"]
    [choice] = sections["workshop_choices"]
    assert choice["fields"]["item_id"] == a2 and choice["fields"]["booking_id"] == booking.id

    set_now(datetime(2027, 4, 1, 9, 0))
    booking.outcome = ATTENDED
    db.session.commit()
    admin = make_user(roles=("admin",))
    erase_person(person, actor=admin)
    db.session.commit()
    assert [c.item_id for c in booking.workshop_choices] == [a2], "the place at the workshop still counts"
    assert "Wren Workshopper" not in str(subject_access(person).as_dict())
