"""Issue 17 in Chromium: the L&D team meets a clash and books anyway; a provider's trainer, on a
phone, uploads pre-course material and sends it; the person booked finds it."""
from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import expect

from app.bookings.models import CONFIRMED
from app.courses.trainers import ProviderDetails, TrainerDetails, create_provider, save_trainer_profile
from app.extensions import db
from tests.attendance.conftest import COURSE, ROOM, at_london
from tests.e2e.conftest import assert_accessible, sign_in

DAY = datetime(2027, 3, 3, 9, 30)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_clash_is_refused_then_booked_anyway_and_the_pool_pages_pass_axe(
        app, live_server, browser_page, set_now, make_user, make_course, make_session):
    set_now(at_london(datetime(2027, 2, 1, 12, 0)))
    admin = make_user(name="Adaeze Fairweather", roles=("admin",))
    trainer = make_user(name="Wynne Carraway", roles=("trainer",))
    provider = create_provider(ProviderDetails(name="Harbourside Safeguarding Associates",
                                               contract_reference="NSCP/2026/017"), admin)
    save_trainer_profile(trainer, TrainerDetails(provider=provider), admin)
    make_session(course=make_course(title="Safeguarding Level 3", **COURSE), starts_at=DAY,
                 trainers=[trainer], **ROOM)
    other = make_session(course=make_course(title="Neglect", code="NEG"), starts_at=DAY, venue=None,
                         online_url="https://meet.example.org/neglect")
    db.session.commit()

    page = browser_page
    sign_in(page, admin.email)
    page.goto("/admin/")
    page.get_by_role("link", name="Trainers and providers").click()
    expect(page.locator("h1")).to_have_text("Trainers and providers")
    assert_accessible(page)
    page.get_by_role("button", name="Add a provider").click()
    expect(page.locator("h1")).to_have_text("Add a provider")
    page.get_by_label("Organisation").fill("Harbourside Safeguarding Associates")
    page.get_by_role("button", name="Save provider").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "There is already a provider called Harbourside Safeguarding Associates")
    assert_accessible(page)
    page.get_by_role("link", name="Trainers and providers").click()
    expect(page.locator("h1")).to_have_text("Trainers and providers")
    page.get_by_role("link", name="Wynne Carraway").click()
    expect(page.locator("h1")).to_have_text("Wynne Carraway")
    assert_accessible(page)

    page.goto(f"/admin/sessions/{other.id}")
    expect(page.locator("h1")).to_have_text("Change session")
    page.get_by_label("Wynne Carraway").check()
    page.get_by_role("button", name="Save session").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Wynne Carraway is already training ‘Safeguarding Level 3’ at 9:30am-3:30pm on 3 March 2027")
    assert_accessible(page)
    page.get_by_label("Book anyway if a trainer or room is already booked at the time").check()
    page.get_by_role("button", name="Save session").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Session saved.")
    expect(page.locator("main")).to_contain_text("Clash booked anyway")
    assert_accessible(page)


def test_a_trainer_on_a_phone_sends_material_and_the_person_booked_finds_it(
        app, live_server, phone_page, open_page, set_now, make_user, make_course, make_session, make_booking,
        tmp_path):
    set_now(at_london(datetime(2027, 2, 20, 12, 0)))
    trainer = make_user(name="Wynne Carraway", roles=("trainer",))
    learner = make_user(name="Bea Booked")
    session = make_session(course=make_course(title="Safeguarding Level 3", **COURSE), starts_at=DAY,
                           trainers=[trainer], **ROOM)
    make_booking(session, learner, status=CONFIRMED)
    db.session.commit()
    reading = tmp_path / "Pre-reading.pdf"
    reading.write_bytes(PDF)

    page = phone_page
    sign_in(page, trainer.email)
    page.goto(f"/registers/{session.id}")
    page.get_by_role("link", name="Pre-course material and a message to the people booked").click()
    expect(page.locator("h1")).to_have_text("Safeguarding Level 3")
    assert_accessible(page)
    page.get_by_label("Upload a file").set_input_files(str(reading))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Pre-reading.pdf added.")
    page.get_by_label("Message to the people with a confirmed place").fill("Please read this before the day.")
    page.get_by_role("button", name="Send to the people booked").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Message sent to 1 person")
    assert_accessible(page)

    reader = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(reader, learner.email)
    reader.goto(f"/sessions/{session.id}/materials")
    expect(reader.get_by_role("link", name="Pre-reading.pdf")).to_be_visible()
    assert_accessible(reader)
    assert re.search(rf"/sessions/{session.id}/materials/\d+$",
                     reader.get_by_role("link", name="Pre-reading.pdf").get_attribute("href"))
