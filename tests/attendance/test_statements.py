"""The register, its downloads and My sessions send the same number of SQL statements for a few
people or sessions as for many: what each row shows comes with the rest, not one query per row."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.accounts.models import User
from app.bookings.models import ATTENDED
from app.extensions import db
from tests.attendance.conftest import COURSE, DAY, ROOM, at_london
from tests.statements import statements_of_get


@pytest.fixture
def register_of(make_user, make_agency, make_course, make_session, make_booking):
    """register_of(n): a session with n people on its register, each from their own agency, some
    marked, one a walk-in; and its trainer."""
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))

    def _make(n: int):
        session = make_session(course=make_course(**COURSE), trainers=[trainer], starts_at=DAY, **ROOM)
        for i in range(n):
            person = make_user(name=f"Person Number{i}", agency=make_agency(name=f"Agency {n}-{i}",
                                                                              sector=f"Sector {n}-{i}"))
            make_booking(session, person, outcome=ATTENDED if i % 2 else None, walk_in=i == 0,
                         access_needs="Vegetarian" if i == 1 else "")
        return session

    return _make, trainer


@pytest.mark.parametrize("suffix", ["", ".csv", ".pdf"])
@pytest.mark.parametrize("who", ["trainer", "admin"])
def test_register_statements_do_not_grow_with_the_people_on_it(app, register_of, sign_in, set_now,
                                                                make_user, suffix, who):
    make, trainer = register_of
    small, large = make(2), make(12)
    set_now(at_london(DAY.replace(hour=10)))
    client = sign_in(trainer if who == "trainer" else make_user(name="Adaeze Fairweather", roles=("admin",)))
    small_id, large_id = small.id, large.id
    few = statements_of_get(client, f"/registers/{small_id}{suffix}")
    many = statements_of_get(client, f"/registers/{large_id}{suffix}")
    assert len(few) == len(many), "\n".join(many)


def test_my_sessions_statements_do_not_grow_with_the_sessions(app, sign_in, set_now, make_user, make_course,
                                                              make_session):
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    trainer_id = trainer.id

    def add(first: int, last: int) -> None:
        person = db.session.get(User, trainer_id)
        for n in range(first, last):
            make_session(course=make_course(title=f"Course {n}"), trainers=[person],
                         starts_at=DAY + timedelta(days=n), venue=f"Venue {n}")

    set_now(at_london(DAY - timedelta(days=1)))
    add(0, 2)
    client = sign_in(trainer)
    few = statements_of_get(client, "/registers")
    add(2, 8)
    many = statements_of_get(client, "/registers")
    page = client.get("/registers").get_data(as_text=True)
    assert "Course 7" in page and "Venue 7" in page
    assert len(few) == len(many), "\n".join(many)
