"""Issue 5's journey in Chromium on a phone-sized screen: the trainer downloads the register and marks
it (a walk-in and a no-show among them), the learner downloads a certificate, and the agency's
coordinator sees the no-show and the charge."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect

from app.extensions import db
from tests.attendance.conftest import COURSE, DAY, ROOM, at_london, pdf_text
from tests.e2e.conftest import assert_accessible, sign_in

DAY = datetime(2027, 3, 3, 9, 30)


def _phone(open_page):
    return open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                     accept_downloads=True)


def _open_menu_item(page, name):
    """Follow a service navigation link; on a phone it is behind the Menu button."""
    page.wait_for_load_state("load")  # the Menu button appears once GOV.UK Frontend's script ran
    menu = page.locator(".govuk-service-navigation__toggle")
    if menu.is_visible():
        menu.click()
    page.locator(".govuk-service-navigation").get_by_role("link", name=name).click()


def test_trainer_marks_learner_gets_certificate_coordinator_sees_charge(
        app, live_server, open_page, phone_page, set_now, make_user, make_agency, make_course,
        make_session, make_booking):
    school = make_agency(name="Hillcrest Primary School", sector="Education - schools")
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    coordinator = make_user(name="Colin Eskdale", agency=school, roles=("coordinator",))
    zoe = make_user(name="Zoë Ábrahams", email="zoe.abrahams@hillcrest.example", agency=school, job_title="Teacher")
    sam = make_user(name="Sam Dunmore", email="sam.dunmore@hillcrest.example", agency=school, job_title="Teaching assistant")
    amir = make_user(name="Amir Young", email="amir.young@hillcrest.example", agency=school, job_title="SENCO")
    course = make_course(title="Safeguarding Level 3", charge_pence=7500, refresher_months=36, level="Level 3")
    session = make_session(course=course, trainers=[trainer], starts_at=DAY, **ROOM)
    make_booking(session, zoe, access_needs="Vegetarian")
    make_booking(session, sam)
    db.session.commit()
    # Certificates here wait for nothing: the evaluation's gate is the evaluation domain's test.
    live_server.app.config["CERTIFICATE_REQUIRES_EVALUATION"] = False

    # The evening before: the trainer downloads the sign-in sheet; marking is not open yet.
    set_now(at_london(datetime(2027, 3, 2, 19, 0)))
    page = phone_page
    sign_in(page, trainer.email)
    _open_menu_item(page, "My sessions")
    expect(page.locator("h1")).to_have_text("My sessions")
    assert_accessible(page)
    page.get_by_role("link", name="Safeguarding Level 3").click()
    expect(page.locator(".govuk-caption-l")).to_have_text("Register")
    assert "can be marked from 3 March 2027" in page.locator("main").inner_text()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Sign-in sheet to print (PDF)").click()
    text = pdf_text(open(download.value.path(), "rb").read())
    assert "Zoë Ábrahams" in text and "Sam Dunmore" in text and "Vegetarian" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Register for a spreadsheet (CSV)").click()
    assert open(download.value.path(), "rb").read().startswith("\ufeff".encode())

    # On the day: everyone attended, except Sam, who did not come; Amir walked in.
    set_now(at_london(DAY.replace(hour=10)))
    page.reload()
    expect(page.get_by_role("button", name="Save the register")).to_be_visible()
    page.get_by_role("button", name="Mark everyone not yet marked as attended").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("2 people marked as attended")
    assert_accessible(page)
    page.get_by_role("group", name="Sam Dunmore").get_by_label("Did not attend").check()
    page.get_by_role("button", name="Save the register").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Register saved: 1 change.")
    assert page.get_by_role("group", name="Sam Dunmore").get_by_label("Did not attend").is_checked()

    page.get_by_role("button", name="Add a walk-in").click()
    expect(page.locator("h1")).to_have_text("Add a walk-in")
    assert_accessible(page)
    page.get_by_label("Name or e-mail address").fill("amir")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("button", name="Add Amir Young as attended")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Add Amir Young as attended").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Amir Young is on the register as a walk-in")
    assert page.get_by_role("group", name="Amir Young").get_by_label("Attended", exact=True).is_checked()
    assert_accessible(page)

    # The learner downloads her certificate from her training record.
    page = _phone(open_page)
    sign_in(page, zoe.email)
    _open_menu_item(page, "My training")
    expect(page.locator("h1")).to_have_text("My training record")
    assert "Safeguarding Level 3" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Safeguarding Level 3, 3 March 2027").click()
    expect(page.locator(".govuk-caption-l")).to_have_text("Certificate of attendance")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the certificate (PDF)").click()
    text = pdf_text(open(download.value.path(), "rb").read())
    assert "Certificate of attendance" in text and "Zoë Ábrahams" in text and "6 hours" in text

    # The coordinator sees Sam's no-show and the charge for it.
    page = _phone(open_page)
    sign_in(page, coordinator.email)
    _open_menu_item(page, "My agency")
    expect(page.locator(".govuk-caption-l")).to_have_text("Staff training")
    main = page.locator("main").inner_text()
    assert "Hillcrest Primary School" in main and "Sam Dunmore" in main and "Did not attend" in main
    assert "1 no-shows" in main
    assert_accessible(page)
    page.get_by_role("link", name="Charges statement for this period").click()
    expect(page.locator(".govuk-caption-l")).to_have_text("Charges statement")
    main = page.locator("main").inner_text()
    assert "Sam Dunmore" in main and "£75.00" in main and "Zoë" not in main
    assert_accessible(page)


SURNAMES = ["Adeyemi", "Bailey", "Chowdhury", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
            "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Quinn", "Roberts", "Singh",
            "Taylor", "Usman", "Walsh"]


def test_a_long_register_on_a_phone_keeps_save_in_reach_and_marks_survive_a_walk_in(
        app, live_server, phone_page, set_now, make_user, make_agency, make_course, make_session,
        make_booking):
    agencies = [make_agency(name=f"Agency {letter}", sector="Police") for letter in "ZYX"]
    trainer = make_user(name="Tara Pendleford", roles=("trainer",))
    session = make_session(course=make_course(title="Safeguarding Level 3", **COURSE), trainers=[trainer],
                           starts_at=DAY, **ROOM)
    # Agencies in the reverse order of the surnames: the register must follow the surnames.
    for index, surname in enumerate(SURNAMES):
        person = make_user(name=f"Sam {surname}", agency=agencies[index * 3 // len(SURNAMES)],
                           job_title="Social worker")
        make_booking(session, person, access_needs="Vegetarian" if index % 4 == 0 else "")
    make_user(name="Wanda Walkin", email="wanda.walkin@example.org", agency=agencies[0])
    db.session.commit()
    set_now(at_london(DAY.replace(hour=10)))

    page = phone_page
    sign_in(page, trainer.email)
    page.goto(f"/registers/{session.id}")
    legends = page.locator(".app-register-person legend").all_inner_texts()
    assert [name.strip() for name in legends] == [f"Sam {s}" for s in SURNAMES]
    save = page.get_by_role("button", name="Save the register")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 3 * 844  # a register this long is many screens tall on a phone
    # Once the register is on screen, and all the way down it, Save is on screen too.
    page.locator(".app-register-person").first.scroll_into_view_if_needed()
    for where in ("first person", 0.25, 0.5, 0.75):
        if where != "first person":
            page.evaluate(f"window.scrollTo(0, {where} * (document.documentElement.scrollHeight - innerHeight))")
        box = save.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 844, (where, box)
    # Something in the middle can be tapped and is not hidden under the bar.
    middle = page.get_by_role("group", name="Sam Khan").get_by_label("Did not attend")
    middle.check()
    box = middle.bounding_box()
    assert box["y"] + box["height"] <= save.bounding_box()["y"]
    assert_accessible(page)

    # Marks chosen but not saved survive adding a walk-in.
    page.get_by_role("group", name="Sam Adeyemi").get_by_label("Attended", exact=True).check()
    page.get_by_role("group", name="Sam Walsh").get_by_label("Partly attended").check()
    page.get_by_role("button", name="Add a walk-in").click()
    expect(page.locator("h1")).to_have_text("Add a walk-in")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Register saved: 3 changes.")
    page.get_by_label("Name or e-mail address").fill("wanda")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add Wanda Walkin as attended").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Wanda Walkin is on the register")
    assert page.get_by_role("group", name="Sam Adeyemi").get_by_label("Attended", exact=True).is_checked()
    assert page.get_by_role("group", name="Sam Khan").get_by_label("Did not attend").is_checked()
    assert page.get_by_role("group", name="Sam Walsh").get_by_label("Partly attended").is_checked()
    assert page.get_by_role("group", name="Wanda Walkin").get_by_label("Attended", exact=True).is_checked()
    legends = [name.strip() for name in page.locator(".app-register-person legend").all_inner_texts()]
    assert legends.index("Wanda Walkin") + 1 == legends.index("Sam Walsh")  # by surname
    assert_accessible(page)
