"""The programme's tests: an administrator, the clock, and sessions planned through the programme's
services with parts given in London time."""
from __future__ import annotations

from datetime import datetime

import pytest

from app.courses.models import DRAFT, PUBLISHED, Course, Venue
from app.courses.scheduling import PartTimes, ReservationPlan, SessionPlan, create_session, publish_sessions
from app.extensions import db

# A fixed "now" well before the sessions the tests create (naive UTC).
NOW = datetime(2027, 1, 10, 12, 0)


@pytest.fixture
def admin(make_user):
    return make_user(name="Adaeze Admin", email="admin@example.org", roles=("admin",))


@pytest.fixture
def now(set_now):
    set_now(NOW)
    return NOW


def london(text: str) -> datetime:
    """'2027-03-26 09:30' as a naive London wall-clock datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def parts(*spans: tuple[str, str, str]) -> list[PartTimes]:
    """parts(("2027-03-26", "09:30", "16:30"), ...) in London time."""
    return [PartTimes(london(f"{day} {start}"), london(f"{day} {end}")) for day, start, end in spans]


@pytest.fixture
def plan_session(app, make_course, make_venue, make_user):
    """A session made as the programme's administrators make one, through create_session (and
    publish_sessions): plan_session(capacity=2, days=[("2027-03-26", "09:30", "16:30")], status="published").

    The shared make_session writes the rows directly; the programme's own tests go through its services."""
    state = {"actor": None}

    def _make(course: Course | None = None, capacity: int = 20, days=None, status: str = PUBLISHED,
              venue: Venue | None = None, reservations=(), online_url: str = "", **plan_fields):
        if state["actor"] is None:
            state["actor"] = make_user(name="Session Maker", email="maker@example.org", roles=("admin",))
        if venue is None and not online_url:
            # A room of its own: two sessions at the same time in one room would be refused.
            venue = make_venue()
        plan = SessionPlan(
            parts=parts(*(days or [("2027-03-26", "09:30", "16:30")])), capacity=capacity, venue=venue,
            online_url=online_url,
            reservations=[ReservationPlan(places=p, sector=s if not hasattr(s, "sector_id") else None,
                                          agency=s if hasattr(s, "sector_id") else None) for s, p in reservations],
            **plan_fields,
        )
        session = create_session(course or make_course(level="Level 3"), plan, state["actor"])
        if status == PUBLISHED:
            publish_sessions([session], state["actor"])
        assert status in (DRAFT, PUBLISHED)
        db.session.commit()
        return session

    return _make
