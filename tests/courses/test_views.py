"""The programme as people see it, and the L&D team's screens."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import g
from sqlalchemy import event, func, select

from app.bookings.models import CONFIRMED, Booking
from app.courses.models import CANCELLED, DRAFT, PUBLISHED, Course, Reservation, Session, SessionChange, SessionPart, Theme
from app.courses.changes import cancel_session
from app.extensions import db


def text_of(response) -> str:
    """The page's visible words, one space between them."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&").replace("&#39;", "'")


def book(session, person, status=CONFIRMED, reservation=None):
    db.session.add(Booking(session=session, user=person, agency_id=person.agency_id, status=status,
                           reservation_id=reservation.id if reservation else None))
    db.session.commit()


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# --- The public programme ------------------------------------------------------------------


@pytest.fixture
def programme(app, now, plan_session, make_course, make_level, make_venue, make_sector, admin):
    """A small programme: Level 3 in March (GMT) and April (BST), an SCR workshop, a draft, a past one."""
    cse = Theme(name="CSE")
    scr = Theme(name="SCR learning")
    police = make_sector("Police")
    level3 = make_course(title="Safeguarding Level 3", code="L3", level="Level 3",
                         description="Two days for practitioners.", learning_outcomes="Refer well\nRecord clearly",
                         grew_from="Serious Case Review Child B", refresher_months=36)
    workshop = make_course(title="Serious Case Review Workshop", code="SCR-PRAC", level="Level 3 specialist",
                           description="Learning from reviews.")
    workshop.themes = [scr]
    exploitation = make_course(title="CSE and Gangs", code="CSE", level="Level 3 specialist")
    exploitation.themes = [cse]
    exploitation.audience_sectors = [police]
    level3.prerequisites = [make_course(title="Level 1 and 2 online", code="L12", level=None, is_online=True)]
    riverside = make_venue("Riverside Conference Hall", "Riverside Quay")
    sessions = {
        "l3_march": plan_session(course=level3, capacity=4, days=[("2027-03-18", "09:30", "16:30"),
                                                                 ("2027-03-25", "09:30", "16:30")]),
        "l3_april": plan_session(course=level3, capacity=20, days=[("2027-04-08", "09:30", "16:30")],
                                 reservations=[(police, 5)]),
        "scr": plan_session(course=workshop, capacity=30, venue=riverside, days=[("2027-03-10", "13:30", "16:30")]),
        "cse": plan_session(course=exploitation, capacity=25, online_url="https://meet.example/cse",
                            days=[("2027-05-12", "09:30", "16:30")]),
        "draft": plan_session(course=level3, status=DRAFT, days=[("2027-06-01", "09:30", "16:30")]),
    }
    db.session.commit()
    return sessions


def test_programme_lists_upcoming_published_sessions_by_month(client, programme, set_now, make_user):
    book(programme["l3_march"], make_user())
    book(programme["l3_march"], make_user())
    set_now(datetime(2027, 1, 10, 12, 0))
    page = text_of(client.get("/programme"))
    assert "4 sessions." in page
    assert page.index("March 2027") < page.index("April 2027") < page.index("May 2027")
    assert "June 2027" not in page  # the draft
    assert "Thu 18 Mar, 9:30am to 4:30pm Thu 25 Mar, 9:30am to 4:30pm" in page
    assert "Thu 8 Apr, 9:30am to 4:30pm" in page  # BST shown as UK time
    assert "Riverside Conference Hall" in page and "Online" in page
    results = page[page.index("4 sessions."):]
    march = results[results.index("Safeguarding Level 3"):results.index("April 2027")]
    assert "2 of 4" in march and "Few places" in march
    assert "Open" in results[results.index("April 2027"):]


def test_programme_states_full_and_closed(client, programme, make_user, set_now):
    for _ in range(4):
        book(programme["l3_march"], make_user())
    page = text_of(client.get("/programme?month=2027-03"))
    assert "Full – waiting list" in page and "0 of 4" in page
    set_now(datetime(2027, 3, 10, 14, 0))  # the SCR workshop has started: no longer upcoming
    page = text_of(client.get("/programme?month=2027-03"))
    assert "Serious Case Review Workshop" not in page


@pytest.mark.parametrize("query, expected", [
    ("level={level3}", {"l3_march", "l3_april"}),
    ("theme={scr}", {"scr"}),
    ("sector={police}", {"l3_march", "l3_april", "scr", "cse"}),  # courses for everyone count too
    ("sector={other}", {"l3_march", "l3_april", "scr"}),
    ("month=2027-04", {"l3_april"}),
    ("q=gangs", {"cse"}),
    ("q=l3", {"l3_march", "l3_april"}),
    ("q=RIVERSIDE", {"scr"}),
    ("q=practitioners", {"l3_march", "l3_april"}),
    ("q=100%25", set()),
])
def test_programme_filters_and_search(client, programme, make_sector, query, expected):
    ids = {
        "level3": programme["l3_march"].course.level_id, "scr": db.session.scalar(select(Theme.id).where(Theme.name == "SCR learning")),
        "police": make_sector("Police").id, "other": make_sector("Housing").id,
    }
    response = client.get("/programme?" + query.format(**ids))
    assert response.status_code == 200
    shown = {int(i) for i in re.findall(r'href="/sessions/(\d+)"', response.get_data(as_text=True))}
    assert shown == {programme[name].id for name in expected}


def test_only_sessions_with_places(client, programme, make_user):
    for _ in range(4):
        book(programme["l3_march"], make_user())
    page = client.get("/programme?places=y").get_data(as_text=True)
    assert f'/sessions/{programme["l3_march"].id}"' not in page
    assert f'/sessions/{programme["l3_april"].id}"' in page


def test_nonsense_filters_are_ignored(client, programme):
    response = client.get("/programme?level=abc&month=2027-13&theme=-1&page=999")
    assert response.status_code == 200
    assert "4 sessions." in text_of(response)


def test_signed_in_people_see_places_for_their_own_sector(client, programme, login_as, make_user, make_agency):
    police_officer = make_user(agency=make_agency(sector="Police"))
    nurse = make_user(agency=make_agency(sector="Health - acute"))
    page = text_of(client.get("/programme?month=2027-04"))
    assert "20 of 20" in page and " for Police" not in page
    login_as(nurse)
    page = text_of(client.get("/programme?month=2027-04"))
    assert "20 of 20 15 for Health - acute" in page
    client.post("/sign-out")
    login_as(police_officer)
    page = text_of(client.get(f"/sessions/{programme['l3_april'].id}"))
    assert "20 of 20 places left" in page  # all 20 are open to Police: 15 general and 5 reserved
    assert "5 for Police (5 left)" in page


def _bulk_programme(count: int, make_course, make_venue, make_sector) -> None:
    """`count` published sessions over 20 courses, each with reserved places and a booking."""
    sectors = [make_sector(name) for name in ("Police", "Health - acute", "Education - schools")]
    courses = []
    for n in range(20):
        course = make_course(title=f"Course {n}", code=f"BULK{n}", level=f"Level {n % 4}")
        course.themes = [Theme(name=f"Theme {n}")]
        courses.append(course)
    venues = [make_venue(f"Venue {n}") for n in range(5)]
    start = datetime(2027, 2, 1, 9, 30)
    for n in range(count):
        begins = start + timedelta(days=n % 300, minutes=n)
        session = Session(course=courses[n % 20], venue=venues[n % 5], capacity=20, status=PUBLISHED,
                          starts_at=begins, ends_at=begins + timedelta(hours=7))
        session.parts = [SessionPart(starts_at=begins, ends_at=begins + timedelta(hours=3)),
                         SessionPart(starts_at=begins + timedelta(hours=4), ends_at=begins + timedelta(hours=7))]
        session.reservations = [Reservation(sector=sectors[n % 3], places=4)]
        db.session.add(session)
    db.session.commit()


def _queries_for(client, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        # Requests share the test's app context (and so its database session): start each one
        # with an empty identity map, as a real request does.
        db.session.remove()
        g.pop("_login_user", None)
        with counted_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        counts.append(len(statements))
    return counts


PAGES = ["/programme", "/programme?places=y&q=course", "/programme/print?year=2026", "/programme.ics",
         "/courses/BULK3", "/courses/BULK3/programme.ics", "/admin/sessions"]


@pytest.mark.parametrize("signed_in", [False, True])
def test_queries_per_page_do_not_grow_with_the_programme(app, now, make_course, make_venue, make_sector,
                                                         make_user, signed_in):
    from tests.conftest import _reset_database

    def measure(count):
        _reset_database()
        _bulk_programme(count, make_course, make_venue, make_sector)
        person = make_user(name="Admin Person", email=f"counted{count}@example.org", roles=("admin",)) \
            if signed_in else None
        client = app.test_client()
        g.pop("_login_user", None)  # the last measurement's person, kept on the shared app context
        if person:
            response = client.post("/sign-in", data={"email": person.email, "password": "correct horse battery"})
            assert response.status_code == 302
        pages = PAGES if signed_in else [p for p in PAGES if not p.startswith("/admin")]
        return _queries_for(client, pages), client

    small, client = measure(10)
    assert "10 sessions" in text_of(client.get("/programme"))
    large, client = measure(500)
    page = text_of(client.get("/programme"))
    assert "500 sessions, page 1 of 10" in page
    assert small == large, dict(zip(PAGES, zip(small, large)))
    assert max(small) <= 25, dict(zip(PAGES, small))


# --- Session and course pages ---------------------------------------------------------------


def test_session_page_shows_parts_venue_trainers_places_and_state(client, programme, make_user):
    session = programme["scr"]
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    session.trainers = [trainer]
    session.external_trainers = "Dr Visiting Reviewer"
    session.venue.access_information = "Step-free, hearing loop."
    db.session.commit()
    page = text_of(client.get(f"/sessions/{session.id}"))
    assert "Serious Case Review Workshop" in page
    assert "Wed 10 March 2027, 1:30pm to 4:30pm" in page
    assert "Riverside Conference Hall Riverside Quay" in page and "Step-free, hearing loop." in page
    assert "Tara Pendleford, Dr Visiting Reviewer" in page
    assert "30 of 30 places left" in page and "Open" in page


def test_session_page_links_to_booking(app, programme):
    page = app.test_client().get(f"/sessions/{programme['scr'].id}").get_data(as_text=True)
    assert f'href="/sessions/{programme["scr"].id}/book"' in page and "Book a place" in page


def test_drafts_are_only_for_administrators(client, programme, login_as, admin, make_user):
    draft = programme["draft"]
    assert client.get(f"/sessions/{draft.id}").status_code == 404
    login_as(make_user())
    assert client.get(f"/sessions/{draft.id}").status_code == 404
    assert client.get("/sessions/999999").status_code == 404
    client.post("/sign-out")
    login_as(admin)
    response = client.get(f"/sessions/{draft.id}")
    assert response.status_code == 200 and "Draft: only administrators" in text_of(response)


def test_a_draft_is_hidden_from_everyone_but_administrators_on_every_page(client, programme, login_as, admin,
                                                                        make_user):
    draft = programme["draft"]
    pages = [f"/sessions/{draft.id}", f"/sessions/{draft.id}/book", f"/sessions/{draft.id}/calendar.ics"]
    feeds = ["/programme.ics", "/courses/L3/programme.ics", "/programme", "/courses/L3",
             "/programme/print?year=2027", "/reports/mix?start=2027-04-01&end=2028-03-31&only=all"]
    learner, reviewer = make_user(), make_user(roles=("reviewer", "trainer", "coordinator"))
    for person, extra in ((learner, []), (reviewer, [f"/evaluation/review?session_id={draft.id}"])):
        login_as(person)
        for path in pages + extra:
            assert client.get(path).status_code == 404, (person.roles, path)
        assert client.post(f"/sessions/{draft.id}/book", data={}).status_code == 404
        for path in feeds:
            body = client.get(path).get_data(as_text=True)
            assert "20270601" not in body and "June 2027" not in body, (person.roles, path)
            assert f"/sessions/{draft.id}" not in body and f"session={draft.id}" not in body, (person.roles, path)
        client.post("/sign-out")
    login_as(admin)
    assert client.get(f"/sessions/{draft.id}/book").status_code == 200
    assert client.get(f"/evaluation/review?session_id={draft.id}").status_code == 200


def test_a_cancelled_session_says_so(client, programme, admin):
    cancel_session(programme["l3_april"], "The venue flooded", admin)
    db.session.commit()
    page = text_of(client.get(f"/sessions/{programme['l3_april'].id}"))
    assert "This session has been cancelled: The venue flooded." in page


def test_course_page_shows_outcomes_prerequisites_and_sessions(client, programme):
    page = text_of(client.get("/courses/L3"))
    assert "Safeguarding Level 3" in page and "Two days for practitioners." in page
    assert "Refer well" in page and "Record clearly" in page
    assert "Complete these first: Level 1 and 2 online" in page
    assert "Why this course exists Serious Case Review Child B" in page
    assert "Refresher Every 3 years" in page and "Length 6 hours" in page
    assert page.count("/sessions/") == 0  # links are in the HTML, not the words
    html = client.get("/courses/L3").get_data(as_text=True)
    assert f'/sessions/{programme["l3_march"].id}"' in html and f'/sessions/{programme["draft"].id}"' not in html
    assert "webcal://localhost/courses/L3/programme.ics" in html
    assert client.get("/courses/l3").status_code == 301
    assert client.get("/courses/NOPE").status_code == 404


def test_programme_offers_calendar_subscription(client, programme):
    html = client.get("/programme").get_data(as_text=True)
    assert 'href="webcal://localhost/programme.ics"' in html and 'href="/programme.ics"' in html


def test_printable_programme_lists_the_year_by_month(client, programme):
    page = text_of(client.get("/programme/print?year=2026"))
    assert "safeguarding training programme 2026/27" in page and "2 sessions." in page
    assert "March 2027" in page and "April 2027" not in page  # the year runs April to March
    assert "Serious Case Review Workshop (SCR-PRAC)" in page
    page = text_of(client.get("/programme/print?year=2027"))
    assert page.index("April 2027") < page.index("May 2027")
    assert "June 2027" not in page  # a draft is not in the printed programme
    html = client.get("/programme/print?year=2026").get_data(as_text=True)
    assert "app-print-table" in html
    assert client.get("/programme/print?year=1800").status_code == 404


# --- Administration ------------------------------------------------------------------------


ADMIN_PAGES = ["/admin/courses", "/admin/courses/new", "/admin/levels", "/admin/themes", "/admin/venues",
               "/admin/venues/new", "/admin/sessions"]


def test_admin_screens_are_for_administrators_only(client, login_as, make_user):
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
    login_as(make_user(roles=("trainer", "coordinator")))
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/sessions/publish", data={"session_ids": "1"}).status_code == 403


def test_missing_things_are_404(client, login_as, admin):
    login_as(admin)
    for url in ["/admin/courses/999", "/admin/levels/999", "/admin/themes/999", "/admin/venues/999",
                "/admin/sessions/999", "/admin/sessions/999/copy", "/admin/sessions/999/cancel",
                "/admin/courses/999/sessions/new"]:
        assert client.get(url).status_code == 404, url


def test_admin_home_links_to_the_programme_screens(client, login_as, admin):
    login_as(admin)
    html = client.get("/admin/").get_data(as_text=True)
    for url in ["/admin/sessions", "/admin/courses", "/admin/venues", "/admin/levels", "/admin/themes"]:
        assert f'href="{url}"' in html


def test_creating_a_course_through_the_form(client, login_as, admin, make_level, make_course, now):
    level = make_level("Level 3")
    online = make_course(title="Level 1 and 2 online", code="L12", level="Level 3")
    login_as(admin)
    response = client.post("/admin/courses/new", data={
        "title": "Safeguarding Level 3", "code": "L3", "level_id": level.id, "duration_hours": "12",
        "prerequisite_ids": [online.id], "refresher_months": "36", "cancellation_notice_days": "5",
        "non_attendance_charge": "£90.00", "evaluation_delay_months": "3", "requires_manager_approval": "y",
        "description": "Two days.", "learning_outcomes": "Refer well",
    })
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.code == "L3"))
    assert (course.non_attendance_charge_pence, course.refresher_months, course.requires_manager_approval) == (9000, 36, True)
    assert [c.code for c in course.prerequisites] == ["L12"]


def test_the_course_form_says_which_course_a_refresher_renews(client, login_as, admin, make_course, now):
    level3 = make_course(title="Safeguarding Level 3", code="L3", refresher_months=36, level="Level 3")
    refresher = make_course(title="Level 3 Refresher", code="L3R", level="Level 3")
    login_as(admin)
    html = client.get(f"/admin/courses/{refresher.id}").get_data(as_text=True)
    assert "Completing it renews the refresher of" in html and "Safeguarding Level 3 (L3)" in html
    response = client.post(f"/admin/courses/{refresher.id}", data={
        "title": "Level 3 Refresher", "code": "L3R", "level_id": 0, "duration_hours": "3",
        "cancellation_notice_days": "5", "non_attendance_charge": "0", "evaluation_delay_months": "3",
        "renews_course_id": str(level3.id),
    })
    assert response.status_code == 302
    assert db.session.get(Course, refresher.id).renews_course_id == level3.id
    html = client.get(f"/admin/courses/{refresher.id}").get_data(as_text=True)
    assert f'<option value="{level3.id}" selected>' in html


def test_course_form_errors_sit_beside_their_fields(client, login_as, admin, make_course, now):
    online = make_course(title="Level 1 and 2 online", code="L12", level="Level 3")
    level3 = make_course(title="Safeguarding Level 3", code="L3", level="Level 3")
    level3.prerequisites = [online]
    db.session.commit()
    login_as(admin)
    response = client.post(f"/admin/courses/{online.id}", data={
        "title": "Renamed", "code": "L12", "level_id": 0, "duration_hours": "2", "prerequisite_ids": [level3.id],
        "cancellation_notice_days": "5", "non_attendance_charge": "0", "evaluation_delay_months": "3",
        "refresher_months": "three",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error:" in html
    assert "The refresher interval must be a whole number of months" in html
    response = client.post(f"/admin/courses/{online.id}", data={
        "title": "Renamed", "code": "L12", "level_id": 0, "duration_hours": "2", "prerequisite_ids": [level3.id],
        "cancellation_notice_days": "5", "non_attendance_charge": "0", "evaluation_delay_months": "3",
    })
    html = response.get_data(as_text=True)
    assert 'href="#prerequisite_ids"' in html  # in the error summary, linked to the field
    assert "That would make a loop" in html
    db.session.expire_all()
    assert db.session.get(Course, online.id).title == "Level 1 and 2 online"


def _session_form(venue: int, **overrides) -> dict:
    data = {
        "parts-0-date": ["26", "3", "2027"], "parts-0-starts_at": "9:30", "parts-0-ends_at": "16:30",
        "parts-1-date": ["2", "4", "2027"], "parts-1-starts_at": "09:30", "parts-1-ends_at": "4:30pm",
        "parts-2-date": ["", "", ""], "parts-2-starts_at": "", "parts-2-ends_at": "",
        "parts-3-date": ["", "", ""], "parts-3-starts_at": "", "parts-3-ends_at": "",
        "venue_id": str(venue), "online_url": "", "capacity": "24", "reservation_release_days": "14",
        "booking_opens_on": ["", "", ""], "booking_opens_time": "",
        "booking_closes_on": ["24", "3", "2027"], "booking_closes_time": "",
        "external_trainers": "", "joining_instructions": "Bring lunch",
    }
    for n in range(6):
        data.update({f"reservations-{n}-sector_id": "0", f"reservations-{n}-agency_id": "0", f"reservations-{n}-places": ""})
    data.update(overrides)
    return data


def test_creating_a_two_part_session_with_reservations(client, login_as, admin, make_course, make_venue, make_sector,
                                                       make_user, now):
    course = make_course(title="Safeguarding Level 3", code="L3", level="Level 3")
    venue = make_venue()
    police, health = make_sector("Police"), make_sector("Health - acute")
    trainer = make_user(name="Tara Trainer", roles=("trainer",))
    login_as(admin)
    form = client.get(f"/admin/courses/{course.id}/sessions/new").get_data(as_text=True)
    assert "Tara Trainer" in form and "Part 4" in form and "Reserved places 6" in form
    response = client.post(f"/admin/courses/{course.id}/sessions/new", data=_session_form(
        venue.id, **{"reservations-0-sector_id": str(police.id), "reservations-0-places": "2",
                     "reservations-2-sector_id": str(health.id), "reservations-2-places": "4",
                     "trainer_ids": [str(trainer.id)], "publish": "yes"}))
    assert response.status_code == 302
    session = db.session.scalar(select(Session))
    assert session.status == PUBLISHED
    assert [(p.starts_at, p.ends_at) for p in session.parts] == [
        (datetime(2027, 3, 26, 9, 30), datetime(2027, 3, 26, 16, 30)),
        (datetime(2027, 4, 2, 8, 30), datetime(2027, 4, 2, 15, 30))]
    assert session.booking_closes_at == datetime(2027, 3, 24, 17, 0)
    assert sorted((r.sector.name, r.places) for r in session.reservations) == [("Health - acute", 4), ("Police", 2)]
    assert [t.name for t in session.trainers] == ["Tara Trainer"]
    # The edit form shows it back as it was entered.
    html = client.get(f"/admin/sessions/{session.id}").get_data(as_text=True)
    assert 'value="09:30"' in html and 'value="16:30"' in html and 'name="parts-1-date" type="text" value="02"' in html


@pytest.mark.parametrize("overrides, message", [
    ({"parts-0-ends_at": "8:00"}, "Part 1: the end time must be after the start time"),
    ({"parts-1-date": ["26", "3", "2027"], "parts-1-starts_at": "13:00"}, "Part 2 overlaps part 1"),
    ({"parts-0-starts_at": "half nine"}, "Enter a time, for example 9:30 or 13:45"),
    ({"parts-0-date": ["31", "2", "2027"]}, "Enter a real date, for example 27 3 2027"),
    ({"capacity": "3", "reservations-0-places": "4"}, "The reserved places add up to 4, more than the 3 places on the session"),
    ({"reservations-0-places": "4", "reservations-0-sector_id": "0"}, "Reserved places 1: choose the sector or agency the places are for"),
    ({"booking_closes_on": ["27", "3", "2027"]}, "Booking must close before the session starts"),
    ({"booking_opens_on": ["25", "3", "2027"]}, "Booking must open before it closes"),
    ({"venue_id": "0"}, "Choose a venue, or give an online joining link"),
    ({"capacity": "lots"}, "The places must be a whole number"),
])
def test_session_form_refuses_nonsense_and_saves_nothing(client, login_as, admin, make_course, make_venue, make_sector,
                                                         now, overrides, message):
    course = make_course(level="Level 3")
    venue = make_venue()
    police = make_sector("Police")
    data = _session_form(venue.id, **{"reservations-0-sector_id": str(police.id)} | overrides)
    if "reservations-0-places" not in overrides:
        data["reservations-0-places"] = "2"
    login_as(admin)
    response = client.post(f"/admin/courses/{course.id}/sessions/new", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert html.count(message) >= 2, message  # in the summary and beside the field
    assert db.session.scalar(select(func.count()).select_from(Session)) == 0


def test_editing_a_published_session_tells_the_admin_people_will_hear(
        client, login_as, admin, plan_session, make_venue, now):
    session = plan_session(days=[("2027-03-26", "09:30", "16:30"), ("2027-04-02", "09:30", "16:30")])
    part_ids = [p.id for p in session.parts]
    login_as(admin)
    response = client.post(f"/admin/sessions/{session.id}", data=_session_form(
        session.venue_id, **{"parts-1-date": ["9", "4", "2027"]}), follow_redirects=True)
    assert "The people booked will be told about the change." in text_of(response)
    db.session.expire_all()
    session = db.session.get(Session, session.id)
    assert [p.id for p in session.parts] == part_ids and session.sequence == 1
    assert db.session.scalar(select(SessionChange.kind)) == "time"
    assert "Dates or times: Was" in text_of(client.get(f"/admin/sessions/{session.id}"))


def test_sessions_at_a_glance_show_fill_and_publish_many(
        client, login_as, admin, plan_session, make_course, make_user, now):
    course = make_course(title="Safeguarding Level 3", level="Level 3")
    published = plan_session(course=course, capacity=4, days=[("2027-03-01", "09:30", "16:30")])
    book(published, make_user())
    drafts = [plan_session(course=course, status=DRAFT, days=[(f"2027-04-0{d}", "09:30", "16:30")]) for d in (5, 6, 7)]
    login_as(admin)
    page = text_of(client.get("/admin/sessions"))
    assert "1 of 4 (25%)" in page and "Draft" in page
    response = client.post("/admin/sessions/publish", data={"session_ids": [drafts[0].id, drafts[1].id]},
                           follow_redirects=True)
    assert "2 sessions published." in text_of(response)
    db.session.expire_all()
    assert [db.session.get(Session, d.id).status for d in drafts] == [PUBLISHED, PUBLISHED, DRAFT]
    response = client.post("/admin/sessions/publish", data={}, follow_redirects=True)
    assert "Choose at least one session to publish" in text_of(response)


def test_copying_a_session_to_new_dates(client, login_as, admin, plan_session, now):
    session = plan_session(days=[("2027-03-26", "09:30", "16:30")])
    login_as(admin)
    data = {f"dates-{n}": ["", "", ""] for n in range(6)}
    data["dates-0"] = ["7", "5", "2027"]
    data["dates-1"] = ["4", "6", "2027"]
    response = client.post(f"/admin/sessions/{session.id}/copy", data=data, follow_redirects=True)
    assert "2 draft copies made." in text_of(response)
    copies = db.session.scalars(select(Session).where(Session.id != session.id).order_by(Session.starts_at)).all()
    assert [c.starts_at for c in copies] == [datetime(2027, 5, 7, 8, 30), datetime(2027, 6, 4, 8, 30)]
    assert all(c.status == DRAFT for c in copies)
    data["dates-1"] = ["4", "13", "2027"]
    response = client.post(f"/admin/sessions/{session.id}/copy", data=data)
    assert "Enter a real date" in response.get_data(as_text=True)


def test_cancelling_a_session_through_the_form(client, login_as, admin, plan_session, now):
    session = plan_session()
    login_as(admin)
    response = client.post(f"/admin/sessions/{session.id}/cancel", data={"reason": ""})
    assert "Enter the reason for cancelling" in response.get_data(as_text=True)
    response = client.post(f"/admin/sessions/{session.id}/cancel", data={"reason": "Trainer ill"}, follow_redirects=True)
    assert "Session cancelled. The people booked will be told." in text_of(response)
    db.session.expire_all()
    assert db.session.get(Session, session.id).status == CANCELLED


def test_levels_themes_and_venues_are_managed_as_data(client, login_as, admin, now):
    login_as(admin)
    client.post("/admin/levels", data={"name": "Level 3", "intercollegiate_level": "Level 3 core", "position": "2"})
    client.post("/admin/themes", data={"name": "Neglect"})
    client.post("/admin/venues/new", data={"name": "Civic Centre", "address": "1 Square", "active": "y"})
    assert "Level 3 core" in text_of(client.get("/admin/levels"))
    assert "Neglect" in text_of(client.get("/admin/themes"))
    assert "Civic Centre" in text_of(client.get("/admin/venues"))
    response = client.post("/admin/themes", data={"name": "neglect"})
    assert "There is already a theme called neglect" in response.get_data(as_text=True)
    response = client.post("/admin/venues/new", data={"name": "No address", "address": ""})
    assert "Enter the venue’s address" in response.get_data(as_text=True)


def test_retiring_a_course_through_the_screen(client, login_as, admin, plan_session, make_course, now):
    course = make_course(title="Old course", level="Level 3")
    session = plan_session(course=course)
    login_as(admin)
    response = client.post(f"/admin/courses/{course.id}/retire", follow_redirects=True)
    assert "1 upcoming published session" in text_of(response)
    cancel_session(session, "Replaced", admin)
    db.session.commit()
    response = client.post(f"/admin/courses/{course.id}/retire", follow_redirects=True)
    assert "Old course retired." in text_of(response)
    assert "Old course" not in text_of(client.get("/admin/courses"))
    assert "Old course" in text_of(client.get("/admin/courses?retired=1"))
    assert "no longer part of the programme" in text_of(client.get(f"/courses/{course.code}"))
