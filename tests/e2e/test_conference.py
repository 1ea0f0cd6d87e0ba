"""Issue 17's journeys in Chromium: booking a conference and choosing workshops (then changing
one), and checking people in on a phone: a typed code, scans fed to the page's queue as the camera's
decoder would (the camera cannot run headless), a scan made offline and sent when the connection
is back, a repeat and another event's code; then a person confirming their own arrival at the door."""
from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import expect

from app.bookings.check_in_codes import door_token, place_token, short_code
from app.bookings.models import ATTENDED, Booking
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in
from tests.factories import at_london

NOW = datetime(2027, 3, 1, 9, 0)
DAY = datetime(2027, 3, 22, 9, 30)


def test_book_a_conference_choose_workshops_and_change_one(app, live_server, browser_page, set_now,
                                                             make_conference, make_user):
    set_now(NOW)
    conference = make_conference(workshop_places=3, starts_at=DAY, choices_close_at=datetime(2027, 3, 15, 17, 0))
    ada = make_user(name="Ada Lovelock", email="ada.lovelock@nbhealth.example")
    page = browser_page
    sign_in(page, ada.email)
    page.goto(f"/sessions/{conference.id}")
    expect(page.locator("h1")).to_have_text("Annual Safeguarding Conference")
    programme = page.get_by_role("region", name="Programme")
    expect(programme).to_contain_text("Opening: learning from local reviews")
    expect(programme).to_contain_text("Kit Placeholder")
    expect(programme.get_by_role("row", name=re.compile("A2 Online harm"))).to_contain_text("3 of 3")
    assert_accessible(page)

    page.get_by_role("button", name="Book a place").click()
    expect(page.locator("h1")).to_have_text("Check and confirm your booking")
    page.get_by_role("group", name=re.compile("Workshop at 11:00am")).get_by_label("A2 Online harm").check()
    page.get_by_role("group", name=re.compile("Workshop at 2:00pm")).get_by_label("B1 Voice of the child").check()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("h1")).to_have_text("My bookings")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your place is booked")
    db.session.commit()  # a fresh transaction that sees the browser's booking
    booking = db.session.query(Booking).filter_by(user_id=ada.id).one()
    expect(page.get_by_test_id("check-in-code")).to_have_text(short_code(booking))
    mine = page.get_by_test_id(f"programme-{booking.id}")
    expect(mine).to_contain_text("Workshop: A2 Online harm")
    expect(mine).to_contain_text("Workshop: B1 Voice of the child")
    expect(mine).not_to_contain_text("A1 Neglect")
    expect(page.locator(".app-qr-code svg")).to_be_visible()
    box = page.locator(".app-qr-code svg").bounding_box()
    assert box["width"] >= 150 and abs(box["width"] - box["height"]) < 2, "a square code, big enough to scan"
    assert_accessible(page)

    page.get_by_role("link", name="Change your workshops").click()
    expect(page.locator("h1")).to_have_text("Your workshops")
    page.get_by_role("group", name=re.compile("Workshop at 11:00am")).get_by_label("A1 Neglect").check()
    assert_accessible(page)
    page.get_by_role("button", name="Save my workshops").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your workshops are changed")
    expect(page.get_by_test_id(f"programme-{booking.id}")).to_contain_text("Workshop: A1 Neglect")
    expect(page.get_by_test_id(f"programme-{booking.id}")).not_to_contain_text("A2 Online harm")
    page.goto(f"/sessions/{conference.id}")
    expect(page.get_by_role("region", name="Programme").get_by_role("row", name=re.compile("A1 Neglect"))
           ).to_contain_text("2 of 3")


def test_the_l_and_d_team_adds_a_workshop_to_the_programme(app, live_server, browser_page, set_now, make_conference,
                                                           make_user):
    set_now(NOW)
    conference = make_conference(starts_at=DAY)
    admin = make_user(name="Adaeze Fairweather", email="adaeze@northbridge-scp.example", roles=("admin",))
    page = browser_page
    sign_in(page, admin.email)
    page.goto(f"/admin/sessions/{conference.id}")
    page.get_by_role("link", name="Programme: plenaries and workshops").click()
    expect(page.locator("h1")).to_have_text("Programme")
    assert_accessible(page)
    page.get_by_label("Workshop (people choose one per time slot)").check()
    page.get_by_label("Start time").fill("14:00")
    page.get_by_label("End time").fill("15:30")
    page.get_by_label("Title").fill("B3 Private fostering")
    page.get_by_label("Speakers or workshop leads (optional)").fill("Mo Sample")
    page.get_by_label("Places (workshops)").fill("abc")
    page.get_by_role("button", name="Add to the programme").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The places must be a whole number")
    assert_accessible(page)
    page.get_by_label("Places (workshops)").fill("12")
    page.get_by_role("button", name="Add to the programme").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("“B3 Private fostering” added")
    expect(page.get_by_role("region", name="The programme")).to_contain_text("0 of 12 chosen")
    assert_accessible(page)


def test_check_in_on_a_phone_typed_scanned_offline_and_at_the_door(app, live_server, open_page, set_now,
                                                                  make_conference, make_user, make_booking,
                                                                  make_session, make_course):
    trainer = make_user(name="Tara Pendleford", email="tara.pendleford@northbridge.example", roles=("trainer",))
    conference = make_conference(starts_at=DAY, trainers=(trainer,))
    people = {name: make_user(name=name, email=f"{name.split()[0].lower()}@nbhealth.example")
              for name in ("Ada Lovelock", "Bo Quill", "Cy Darnell", "Di Fenwick", "Eve Garnett")}
    bookings = {name: make_booking(conference, person) for name, person in people.items()}
    elsewhere = make_booking(make_session(make_course("Prevent"), DAY), make_user(name="Ed Elsewhere"))
    set_now(at_london(DAY.replace(hour=9, minute=0)))

    phone = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = open_page(**phone)
    sign_in(page, trainer.email)
    page.goto(f"/registers/{conference.id}")
    page.get_by_role("link", name="Check people in with their QR codes").click()
    expect(page.locator("h1")).to_have_text("Annual Safeguarding Conference")
    expect(page.get_by_test_id("check-in-count")).to_have_text("0 of 5 people checked in.")
    assert_accessible(page)

    # The typed fallback.
    page.get_by_label("Check-in code").fill(short_code(bookings["Ada Lovelock"]))
    page.get_by_role("button", name="Check in").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Ada Lovelock is checked in.")
    expect(page.get_by_test_id("check-in-count")).to_have_text("1 of 5 people checked in.")
    assert_accessible(page)

    # Scans, as the decoder hands them to the page: each POSTed from the queue.
    results = page.get_by_test_id("scan-results")
    page.evaluate("code => window.appCheckIn.decoded(code)", place_token(bookings["Bo Quill"]))
    expect(results.locator("li").first).to_contain_text("Bo Quill is checked in.")
    expect(page.get_by_test_id("check-in-count")).to_have_text("2 of 5 people checked in.")
    page.evaluate("code => window.appCheckIn.decoded(code)", place_token(elsewhere))
    expect(results.locator("li").first).to_contain_text("This code is for another event")
    page.evaluate("code => window.appCheckIn.decoded(code)", short_code(bookings["Ada Lovelock"]))
    expect(results.locator("li").first).to_contain_text("Ada Lovelock is already checked in (at 9:00am).")

    # A poor connection: the scan cannot reach the server, waits in the phone's storage, survives a
    # reload, and is sent by the queue's next retry once the connection is back.
    scans = re.compile(r".*/check-in/scans$")
    page.route(scans, lambda route: route.abort("internetdisconnected"))
    page.evaluate("code => window.appCheckIn.decoded(code)", place_token(bookings["Cy Darnell"]))
    expect(page.get_by_test_id("scan-pending")).to_contain_text("1 scan waiting to be sent.")
    page.reload()
    expect(page.get_by_test_id("scan-pending")).to_contain_text("1 scan waiting to be sent.")
    assert page.evaluate("() => window.appCheckIn.queued()") == 1
    db.session.commit()
    assert db.session.get(Booking, bookings["Cy Darnell"].id).outcome is None
    page.unroute(scans)
    expect(results.locator("li").first).to_contain_text("Cy Darnell is checked in.", timeout=15000)
    expect(page.get_by_test_id("scan-pending")).to_have_text("")
    assert page.evaluate("() => window.appCheckIn.queued()") == 0
    expect(page.get_by_test_id("check-in-count")).to_have_text("3 of 5 people checked in.")
    assert_accessible(page)

    # Signed out meanwhile (on a shared phone, say): the scan waits until the trainer signs in again
    # and reloads the page, which gives the queue a fresh form token.
    page.context.clear_cookies()
    page.evaluate("code => window.appCheckIn.decoded(code)", short_code(bookings["Eve Garnett"]))
    expect(page.get_by_test_id("scan-pending")).to_contain_text("Reload this page, signing in again if asked")
    again = page.context.new_page()
    sign_in(again, trainer.email)
    again.close()
    page.reload()
    expect(results.locator("li").first).to_contain_text("Eve Garnett is checked in.")
    expect(page.get_by_test_id("check-in-count")).to_have_text("4 of 5 people checked in.")

    # The register shows them as attended; each counted once.
    db.session.commit()
    assert [db.session.get(Booking, b.id).outcome for b in bookings.values()] == [
        ATTENDED, ATTENDED, ATTENDED, None, ATTENDED]

    # The door code, and Di confirming her own arrival on her phone.
    page.goto(f"/registers/{conference.id}/door-code")
    expect(page.get_by_test_id("door-code").locator("svg")).to_be_visible()
    box = page.get_by_test_id("door-code").locator("svg").bounding_box()
    assert box["width"] >= 300, "the door's code fills a phone's width"
    assert_accessible(page)
    di = open_page(**phone)
    sign_in(di, people["Di Fenwick"].email)
    di.goto(f"/check-in/{door_token(conference.id)}")
    expect(di.locator("h1")).to_have_text("Annual Safeguarding Conference")
    assert_accessible(di)
    di.get_by_role("button", name="Confirm I have arrived").click()
    expect(di.locator(".govuk-panel")).to_contain_text("You are checked in")
    assert_accessible(di)
    db.session.commit()
    assert db.session.get(Booking, bookings["Di Fenwick"].id).outcome == ATTENDED
