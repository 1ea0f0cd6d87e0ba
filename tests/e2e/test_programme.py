"""Browser journey: the L&D team puts a session in the programme; a visitor finds it and saves it to a calendar."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from icalendar import Calendar

from app.accounts.models import RoleGrant, User
from app.clock import london_to_utc, today_london
from app.courses.models import PUBLISHED, Course, Level, Session, SessionPart, Theme, Venue
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in


def _setup(make_user, make_sector):
    admin = make_user(name="Adaeze Fairweather", email="admin@northbridge.example", roles=("admin",))
    make_user(name="Tara Pendleford", email="trainer@northbridge.example", roles=("trainer",))
    for position, name in enumerate(["Children's Social Care", "Health - acute", "Police", "Education - schools"]):
        make_sector(name, position)
    db.session.add_all([
        Level(name="Level 3", intercollegiate_level="Level 3 core", position=1),
        Level(name="Level 4", intercollegiate_level="Level 4", position=2),
        Theme(name="CSE"), Theme(name="Neglect"),
        Venue(name="Northbridge Civic Centre", address="1 Town Hall Square\nNorthbridge NB1 1AA",
              access_information="Step-free entrance, hearing loop."),
    ])
    db.session.commit()
    return admin


def _fill_date(page, field: str, day) -> None:
    page.fill(f"#{field}-day", str(day.day))
    page.fill(f"#{field}-month", str(day.month))
    page.fill(f"#{field}-year", str(day.year))


def test_admin_publishes_a_two_part_session_and_a_visitor_finds_and_saves_it(
        browser_page, open_page, make_user, make_sector):
    admin = _setup(make_user, make_sector)
    page = browser_page
    first_day = today_london() + timedelta(days=45)
    second_day = first_day + timedelta(days=7)

    # The administrator signs in through the form.
    sign_in(page, admin.email)
    page.goto("/admin/")
    page.get_by_role("link", name="Courses").click()
    assert_accessible(page)
    page.get_by_role("button", name="Add a course").click()
    assert page.locator("h1").inner_text() == "Add a course"
    assert_accessible(page)

    # A new course, with a nonsense length first: the message sits beside the field.
    page.fill("#title", "Child Sexual Exploitation: spotting it early")
    page.fill("#code", "CSE-EARLY")
    page.select_option("#level_id", label="Level 3 (Intercollegiate Level 3 core)")
    page.fill("#description", "How exploitation starts and the Northbridge pathway.")
    page.fill("#learning_outcomes", "Recognise the signs of exploitation\nRefer to the MASE panel")
    page.get_by_label("CSE").check()
    page.fill("#duration_hours", "six")
    page.get_by_role("button", name="Save course").click()
    assert "Enter the length as a number of hours" in page.locator(".govuk-error-summary").inner_text()
    assert "Enter the length as a number of hours" in page.locator("#duration_hours-error").inner_text()
    assert_accessible(page)
    page.fill("#duration_hours", "12")
    page.get_by_role("button", name="Save course").click()

    # The new-session form opens straight after: two parts and reserved places.
    assert page.locator("h1").inner_text() == "Add a session"
    assert_accessible(page)
    _fill_date(page, "parts-0-date", first_day)
    page.fill("#parts-0-starts_at", "9:30")
    page.fill("#parts-0-ends_at", "16:30")
    _fill_date(page, "parts-1-date", second_day)
    page.fill("#parts-1-starts_at", "09:30")
    page.fill("#parts-1-ends_at", "4:30pm")
    page.select_option("#venue_id", label="Northbridge Civic Centre")
    page.fill("#capacity", "24")
    page.select_option("#reservations-0-sector_id", label="Health - acute")
    page.fill("#reservations-0-places", "4")
    page.select_option("#reservations-1-sector_id", label="Police")
    page.fill("#reservations-1-places", "2")
    page.select_option("#reservations-2-sector_id", label="Education - schools")
    page.fill("#reservations-2-places", "30")  # more than the capacity: refused, nothing saved
    page.get_by_label("Tara Pendleford").check()
    page.get_by_role("button", name="Save session").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "The reserved places add up to 36, more than the 24 places on the session" in summary
    assert_accessible(page)
    page.fill("#reservations-2-places", "4")
    page.get_by_role("button", name="Save session").click()
    assert "Session added as a draft." in page.locator(".govuk-notification-banner").inner_text()

    # Published from the at-a-glance list, ticking it among the drafts.
    page.goto("/admin/sessions")
    assert_accessible(page)
    assert "0 of 24 (0%)" in page.locator("table").inner_text()
    page.locator("input[name=session_ids]").first.check()
    page.get_by_role("button", name="Publish the selected sessions").click()
    assert "1 session published." in page.locator(".govuk-notification-banner").inner_text()

    # A visitor (not signed in) filters the programme, then searches for it.
    visitor = open_page(accept_downloads=True)
    visitor.goto("/programme")
    assert_accessible(visitor)
    visitor.select_option("#level", label="Level 4")
    visitor.get_by_role("button", name="Show sessions").click()
    assert "No sessions match" in visitor.locator("main").inner_text()
    visitor.select_option("#level", label="Level 3")
    visitor.select_option("#theme", label="CSE")
    visitor.get_by_label("Only sessions with places left").check()
    visitor.get_by_role("button", name="Show sessions").click()
    assert "1 session found" in visitor.locator("main").inner_text()
    visitor.goto("/programme")
    visitor.fill("#q", "exploitation")
    visitor.get_by_role("button", name="Show sessions").click()
    results = visitor.locator("main").inner_text()
    assert "1 session found" in results and "24 of 24" in results and "Open" in results
    assert_accessible(visitor)

    visitor.get_by_role("link", name="Child Sexual Exploitation: spotting it early").click()
    assert visitor.locator("h1").inner_text() == "Child Sexual Exploitation: spotting it early"
    details = visitor.locator(".govuk-summary-list").inner_text()
    assert "9:30am to 4:30pm" in details and "Northbridge Civic Centre" in details
    assert "Tara Pendleford" in details and "24 of 24 places left" in details
    assert "4 for Health - acute (4 left)" in details
    assert_accessible(visitor)

    with visitor.expect_download() as download_info:
        visitor.get_by_role("link", name="Download this session for your calendar (.ics)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    calendar = Calendar.from_ical(open(download.path(), "rb").read())
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    assert [str(e["SUMMARY"]) for e in events] == [
        "Child Sexual Exploitation: spotting it early (part 1 of 2)",
        "Child Sexual Exploitation: spotting it early (part 2 of 2)"]
    expected_start = london_to_utc(datetime.combine(first_day, datetime.min.time()).replace(hour=9, minute=30))
    assert events[0].decoded("DTSTART").astimezone(timezone.utc).replace(tzinfo=None) == expected_start
    assert "/sessions/" in str(events[0]["DESCRIPTION"])

    visitor.get_by_role("link", name="About Child Sexual Exploitation: spotting it early").click()
    assert "Recognise the signs of exploitation" in visitor.locator("main").inner_text()
    assert visitor.locator("a[href^='webcal://']").count() == 1
    assert_accessible(visitor)
    response = visitor.request.get(visitor.locator("a[download][href$='programme.ics']").get_attribute("href"))
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert b"Child Sexual Exploitation: spotting it early" in response.body()

    assert db.session.query(User).count() == 2 and db.session.query(RoleGrant).count() == 2


def _programme_of(count: int) -> None:
    """Publish `count` sessions with long titles and venue names, a week apart from next month."""
    level = db.session.query(Level).filter_by(name="Level 3").one()
    venue = Venue(name="St Brigid's University Hospital Education and Conference Centre",
                  address="Hospital Road\nNorthbridge NB2 4BB")
    for n in range(count):
        course = Course(code=f"LONG{n}", title=f"Safeguarding children affected by domestic abuse, part {n}",
                        level=level, duration_hours=6, requires_manager_approval=False)
        start = london_to_utc(datetime.combine(today_london() + timedelta(days=30 + 7 * n), time(9, 30)))
        session = Session(course=course, capacity=24, status=PUBLISHED, starts_at=start,
                          ends_at=start + timedelta(hours=7), venue=venue)
        session.parts = [SessionPart(starts_at=start, ends_at=start + timedelta(hours=7))]
        db.session.add(session)
    db.session.commit()


def test_on_a_phone_the_programme_shows_sessions_first_as_cards(phone_page, make_user, make_sector):
    _setup(make_user, make_sector)
    _programme_of(6)
    page = phone_page
    page.goto("/programme?level=1")
    assert_accessible(page)

    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    first = page.locator(".app-programme-table tbody tr").first
    places = first.locator("td", has_text="Places left")
    assert places.is_visible() and "24 of 24" in places.inner_text()
    box = places.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    # The first result starts above the fold; the filters come after the results.
    assert first.bounding_box()["y"] < page.evaluate("window.innerHeight")
    assert page.locator("#filters").bounding_box()["y"] > first.bounding_box()["y"]
    page.get_by_role("link", name="Filter or search the sessions").click()
    assert page.url.endswith("#filters")
    assert page.locator("#filters").bounding_box()["y"] < 100


def test_the_keyboard_reaches_the_first_session_in_three_tabs(browser_page, make_user, make_sector):
    _setup(make_user, make_sector)
    _programme_of(3)
    page = browser_page
    page.goto("/programme?level=1&places=y")
    first_link = page.locator(".app-programme-table tbody a").first
    presses = 0
    while presses < 10:
        page.keyboard.press("Tab")
        presses += 1
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Skip to results":
            page.keyboard.press("Enter")
        elif first_link.evaluate("link => link === document.activeElement"):
            break
    assert presses <= 3, f"{presses} Tab presses to the first session"
    assert first_link.evaluate("link => link === document.activeElement")
    assert_accessible(page)
