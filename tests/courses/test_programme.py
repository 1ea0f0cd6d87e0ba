"""A conference's programme, as the L&D team builds it: plenaries and workshops inside the
session's parts, workshops with their own places, and when choices close (issue 17)."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest

from app.bookings.workshops import choose_workshops
from app.courses.availability import booking_facts
from app.courses.changes import change_session_time
from app.courses.conference import add_programme_item, remove_programme_item, set_choices_close
from app.courses.copying import duplicate_session
from app.courses.models import PLENARY, WORKSHOP, ProgrammeItem
from app.courses.problems import CourseError
from app.courses.scheduling import PartTimes
from app.extensions import db
from tests.factories import START

DAY = START.date()  # Monday 22 March 2027; the session runs 9:30 to 15:30 (GMT)


def _refused(message, **fields):
    session = fields.pop("session")
    with pytest.raises(CourseError) as caught:
        add_programme_item(session, **fields)
    db.session.rollback()
    assert any(message in text for _field, text in caught.value.problems or [(None, caught.value.message)]), \
        caught.value.problems


def test_items_sit_inside_the_sessions_parts_and_workshops_have_places(app, make_session, make_user):
    admin = make_user(roles=("admin",))
    session = make_session(capacity=100)
    base = dict(session=session, day=DAY, actor=admin)
    plenary = add_programme_item(session, kind=PLENARY, day=DAY, starts=time(9, 30), ends=time(10, 30),
                                 title="Opening", leads="Dr Ada Example", room="Main hall", capacity=50, actor=admin)
    workshop = add_programme_item(session, kind=WORKSHOP, day=DAY, starts=time(11, 0), ends=time(12, 0),
                                  title="Neglect", capacity=30, actor=admin)
    db.session.commit()
    assert (plenary.capacity, workshop.capacity) == (None, 30)
    assert plenary.starts_at == datetime(2027, 3, 22, 9, 30) and session.is_conference
    _refused("within one of the session’s parts", kind=PLENARY, starts=time(8, 0), ends=time(9, 0), title="Early", **base)
    _refused("within one of the session’s parts", kind=PLENARY, starts=time(15, 0), ends=time(16, 0), title="Late", **base)
    _refused("The end time must be after the start time", kind=PLENARY, starts=time(11, 0), ends=time(10, 0),
             title="Backwards", **base)
    _refused("Enter the workshop’s places", kind=WORKSHOP, starts=time(11, 0), ends=time(12, 0), title="W", **base)
    _refused("more places than the session (100)", kind=WORKSHOP, starts=time(11, 0), ends=time(12, 0), title="W",
             capacity=101, **base)
    _refused("Enter the title", kind=WORKSHOP, starts=time(11, 0), ends=time(12, 0), title="  ", capacity=5, **base)
    _refused("Choose plenary or workshop", kind="party", starts=time(11, 0), ends=time(12, 0), title="X", **base)
    assert len(db.session.query(ProgrammeItem).all()) == 2


def test_a_chosen_workshop_stays_and_choices_close_before_the_start(app, now, make_conference, make_booking,
                                                                    make_user):
    admin = make_user(roles=("admin",))
    conference = make_conference()
    booking = make_booking(conference)
    a1, a2 = conference.workshops[:2]
    choose_workshops(booking, [a1.id], booking.user)
    db.session.commit()
    with pytest.raises(CourseError) as caught:
        remove_programme_item(a1, admin)
    db.session.rollback()
    assert "1 person has chosen “A1 Neglect”" in caught.value.message
    remove_programme_item(a2, admin)
    db.session.commit()
    assert [w.title for w in conference.workshops] == ["A1 Neglect", "B1 Voice of the child", "B2 Domestic abuse"]
    with pytest.raises(CourseError, match="before the session starts"):
        set_choices_close(conference, conference.starts_at, admin)
    db.session.rollback()
    set_choices_close(conference, datetime(2027, 3, 15, 17, 0), admin)
    db.session.commit()
    assert conference.choices_close_at == datetime(2027, 3, 15, 17, 0)


def test_the_programme_page_for_the_l_and_d_team_only(app, client, login_as, make_session, make_user):
    session = make_session(capacity=60)
    login_as(make_user(roles=("trainer",)))
    assert client.get(f"/admin/sessions/{session.id}/programme").status_code == 403
    client.post("/sign-out")
    login_as(make_user(roles=("admin",)))
    page = client.get(f"/admin/sessions/{session.id}/programme").get_data(as_text=True)
    assert "Nothing on the programme yet." in page
    form = {"item-kind": "workshop", "item-day": ["22", "3", "2027"],
            "item-starts_at": "11:00", "item-ends_at": "12:30", "item-title": "Online harm",
            "item-leads": "Kit Placeholder", "item-room": "Room 2", "item-capacity": "25", "item-submit": "y"}
    page = client.post(f"/admin/sessions/{session.id}/programme", data=form, follow_redirects=True).get_data(as_text=True)
    assert "“Online harm” added to the programme." in page and "0 of 25 chosen" in page
    bad = client.post(f"/admin/sessions/{session.id}/programme",
                      data={**form, "item-capacity": "lots"}).get_data(as_text=True)
    assert "The places must be a whole number" in bad
    bad = client.post(f"/admin/sessions/{session.id}/programme",
                      data={**form, "item-starts_at": "18:00", "item-ends_at": "19:00"}).get_data(as_text=True)
    assert "within one of the session’s parts" in bad
    closing = {"close-close_day": ["15", "3", "2027"],
               "close-close_time": "17:00", "close-submit": "y"}
    half = client.post(f"/admin/sessions/{session.id}/programme", data={**closing, "close-close_time": ""})
    assert "Enter the time choices close" in half.get_data(as_text=True) and session.choices_close_at is None
    page = client.post(f"/admin/sessions/{session.id}/programme", data=closing, follow_redirects=True)
    assert "Saved when workshop choices close." in page.get_data(as_text=True)
    assert session.choices_close_at == datetime(2027, 3, 15, 17, 0)
    [item] = session.programme
    page = client.post(f"/admin/sessions/{session.id}/programme/{item.id}/delete", follow_redirects=True)
    assert "“Online harm” taken off the programme." in page.get_data(as_text=True)
    assert client.post(f"/admin/sessions/{session.id}/programme/99999/delete").status_code == 404
    assert date(2027, 3, 22) == DAY


def test_a_copied_conference_keeps_its_programme_at_the_same_times_of_day(app, now, make_conference, make_booking,
                                                                         make_user):
    admin = make_user(roles=("admin",))
    conference = make_conference(choices_close_at=datetime(2027, 3, 15, 17, 0))
    choose_workshops(make_booking(conference), [conference.workshops[0].id], admin)
    db.session.commit()
    # 22 March is GMT; 5 April is BST: 9:30 in London is 8:30 UTC there.
    [copy] = duplicate_session(conference, [date(2027, 4, 5)], admin)
    db.session.commit()
    assert [(i.title, i.capacity) for i in copy.programme] == [(i.title, i.capacity) for i in conference.programme]
    assert copy.programme[0].starts_at == datetime(2027, 4, 5, 8, 30)
    assert copy.choices_close_at == datetime(2027, 3, 29, 16, 0)
    assert booking_facts().workshop_places_taken([w.id for w in copy.workshops]) == {w.id: 0 for w in copy.workshops}


def test_a_conference_moved_to_another_date_takes_its_programme(app, now, make_conference, make_user):
    admin = make_user(roles=("admin",))
    conference = make_conference(choices_close_at=datetime(2027, 3, 15, 17, 0))
    change_session_time(conference, [PartTimes(datetime(2027, 4, 5, 9, 30), datetime(2027, 4, 5, 16, 30))], admin)
    db.session.commit()
    assert conference.parts[0].starts_at == datetime(2027, 4, 5, 8, 30)
    assert conference.programme[0].starts_at == datetime(2027, 4, 5, 8, 30), "9:30 London, in BST"
    assert conference.choices_close_at == datetime(2027, 3, 29, 16, 0)
