"""My bookings sends the same number of SQL statements for 2 bookings as for 8: each booking's
course and venue, and each recorded completion's course, come with the rest."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from app.accounts.models import User
from app.bookings.models import ATTENDED, SELF_RECORDED, Completion
from app.extensions import db
from tests.statements import statements_of_get

SOON = datetime(2027, 3, 3, 9, 30)


def test_my_bookings_statements_do_not_grow_with_the_bookings(app, client, login_as, set_now, make_user,
                                                              make_course, make_session, make_booking):
    person = make_user(name="Lee Learner")
    person_id = person.id
    set_now(SOON - timedelta(days=30))

    def add(first: int, last: int) -> None:
        person = db.session.get(User, person_id)
        for n in range(first, last):
            make_booking(make_session(course=make_course(title=f"Upcoming {n}"), starts_at=SOON + timedelta(days=n)),
                         person)
            make_booking(make_session(course=make_course(title=f"Past {n}"),
                                      starts_at=SOON - timedelta(days=100 + n)), person, outcome=ATTENDED)
            db.session.add(Completion(user_id=person_id, course=make_course(title=f"Online {n}", is_online=True),
                                      completed_on=date(2026, 1, 1 + n), source=SELF_RECORDED))
            db.session.commit()

    add(0, 1)
    login_as(person)
    few = statements_of_get(client, "/my-bookings")
    add(1, 4)
    many = statements_of_get(client, "/my-bookings")
    page = client.get("/my-bookings").get_data(as_text=True)
    assert "Upcoming 3" in page and "Past 3" in page and "Online 3" in page
    assert len(few) == len(many), "\n".join(many)
