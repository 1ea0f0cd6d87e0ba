"""Closed sessions for one agency (a bespoke package): off the public programme, its course page and
the feeds; seen and booked only by that agency's staff (and the L&D team); its attendance still counted."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.bookings.booking import book_place
from app.bookings.errors import BookingError
from app.bookings.models import CONFIRMED, Booking
from app.courses.models import Session
from app.courses.problems import CourseError
from app.courses.scheduling import ReservationPlan, plan_from_session
from app.courses.changes import update_session
from app.extensions import db
from app.filters import Period, Viewer
from app.reports.figures import activity_report
from tests.bookings.conftest import NOW  # noqa: F401
from tests.security import page_without_nonce


@pytest.fixture
def housing(make_agency):
    return make_agency("Northbridge Homes", sector="Housing")


@pytest.fixture
def closed(make_session, make_course, housing):
    course = make_course("Safeguarding for housing officers", code="HOUSE1")
    return make_session(course, capacity=12, closed_to_agency=housing)


def _page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, page_without_nonce(response)


def test_nobody_outside_the_agency_sees_a_closed_session_anywhere(app, now, client, login_as, make_user,
                                                                  make_session, closed):
    open_session = make_session(closed.course)
    places = (f"/programme", f"/courses/{closed.course.code}", "/programme/print?year=2026")
    for who in (None, make_user(name="Outsider")):
        if who is not None:
            login_as(who)
        for url in places:
            status, page = _page(client, url)
            assert status == 200
            assert f"/sessions/{closed.id}\"" not in page, (who, url)
            assert "Only Northbridge Homes" not in page
        assert f"/sessions/{open_session.id}\"" in _page(client, "/programme")[1]
        # The direct address is a 404 (not a refusal that would say it exists), and so is booking it.
        assert client.get(f"/sessions/{closed.id}").status_code == 404
        assert client.get(f"/sessions/{closed.id}/calendar.ics").status_code == 404
        if who is not None:
            assert client.get(f"/sessions/{closed.id}/book").status_code == 404
            assert client.post(f"/sessions/{closed.id}/book", data={}).status_code == 404
    feeds = client.get("/programme.ics").get_data(as_text=True) + \
        client.get(f"/courses/{closed.course.code}/programme.ics").get_data(as_text=True)
    assert f"session-{open_session.id}" in feeds or "Safeguarding for housing officers" in feeds
    assert feeds.count("BEGIN:VEVENT") == 2, "only the open session, in both feeds"
    assert db.session.scalar(select(Booking.id)) is None


def test_the_agencys_staff_see_and_book_it(app, now, client, login_as, make_user, housing, closed):
    officer = make_user(name="Tamsin Okafor", agency=housing)
    login_as(officer)
    status, page = _page(client, "/programme")
    assert f"/sessions/{closed.id}\"" in page and "Only Northbridge Homes" in page
    status, page = _page(client, f"/sessions/{closed.id}")
    assert status == 200 and "Closed session for Northbridge Homes" in page
    assert f"/sessions/{closed.id}\"" in _page(client, f"/courses/{closed.course.code}")[1]
    response = client.post(f"/sessions/{closed.id}/book", data={"access_needs": ""})
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking).where(Booking.user_id == officer.id))
    assert booking.session_id == closed.id and booking.status in (CONFIRMED, "awaiting_approval")


def test_the_rule_refuses_others_with_a_clear_reason(app, now, make_user, housing, closed):
    outsider = make_user(name="Pat Outsider")
    with pytest.raises(BookingError, match="only for staff of Northbridge Homes"):
        book_place(closed, outsider, outsider)
    db.session.rollback()
    admin = make_user(name="Ada Admin", roles=("admin",))
    # The L&D team sees it, but booking someone from another agency on it is refused too.
    with pytest.raises(BookingError, match="Pat Outsider is not one of them"):
        book_place(closed, outsider, admin)
    db.session.rollback()
    assert db.session.scalar(select(Booking.id)) is None


def test_the_l_and_d_team_sees_it_and_sets_it_when_scheduling(app, now, client, login_as, make_user, make_agency,
                                                              housing, closed, make_session):
    admin = make_user(name="Ada Admin", roles=("admin",))
    login_as(admin)
    assert f"/sessions/{closed.id}\"" in _page(client, "/programme")[1]
    assert _page(client, f"/sessions/{closed.id}")[0] == 200
    page = _page(client, f"/admin/sessions/{closed.id}")[1]
    assert "Closed to one agency" in page and "Open to everyone" in page
    assert "Only Northbridge Homes" in _page(client, "/admin/sessions")[1]

    other = make_session(closed.course)
    outsider = make_user(name="Pat Outsider")
    book_place(other, outsider, outsider)
    db.session.commit()
    plan = plan_from_session(other)
    plan.closed_to_agency = housing
    with pytest.raises(CourseError, match="1 person from another agency holds or waits for a place"):
        update_session(other, plan, admin)
    db.session.rollback()
    other = make_session(closed.course)
    plan = plan_from_session(other)
    plan.closed_to_agency = housing
    update_session(other, plan, admin)
    db.session.commit()
    assert db.session.get(Session, other.id).closed_to_agency_id == housing.id
    plan = plan_from_session(other)
    plan.reservations = [ReservationPlan(places=2, agency=make_agency("Another agency"))]
    with pytest.raises(CourseError, match="closed to Northbridge Homes"):
        update_session(other, plan, admin)
    db.session.rollback()


def test_its_attendance_still_counts_in_the_reports(app, now, make_user, make_booking, housing, closed):
    officer = make_user(agency=housing)
    make_booking(closed, officer, outcome="attended")
    report = activity_report(Period(date(2027, 3, 1), date(2027, 3, 31)), Viewer(None))
    assert sum(row.attendances for row in report.rows if row.agency_id == housing.id) == 1
