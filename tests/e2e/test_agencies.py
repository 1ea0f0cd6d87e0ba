"""An agency's own training in the browser: a closed session seen by its staff, a coordinator
recording single-agency training and proposing needs, the L&D team accepting them; every page
passes axe-core."""
from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import expect

from app import clock
from app.extensions import db
from app.reports.models import TnaLine, TrainingNeedsAnalysis, line_key
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 3, 10, 12, 0)


def test_an_agency_records_its_own_training_and_proposes_its_needs(app, browser_page, make_user, make_agency,
                                                                    make_level, make_course, make_session):
    clock.set_now(NOW)
    homes = make_agency("Northbridge Homes", sector="Housing")
    level3 = make_level("Level 3")
    course = make_course("Safeguarding Level 3", code="L3", level=level3)
    closed = make_session(course, datetime(2027, 4, 7, 9, 30), closed_to_agency=homes)
    coordinator = make_user(name="Chidi Coordinator", email="chidi@homes.example", agency=homes,
                            roles=("coordinator",))
    make_user(name="Tamsin Okafor", email="tamsin@homes.example", agency=homes)
    admin = make_user(name="Ada Admin", email="ada@scp.example", roles=("admin",))
    tna = TrainingNeedsAnalysis(name="Needs 2026-27", starts_on=datetime(2026, 4, 1).date(),
                                ends_on=datetime(2027, 3, 31).date())
    tna.lines.append(TnaLine(sector_id=homes.sector_id, level_id=level3.id, staff_in_scope=150, needed=15,
                             line_key=line_key(homes.sector_id, None, None, level3.id)))
    db.session.add(tna)
    db.session.commit()

    page = browser_page
    sign_in(page, coordinator.email)
    page.goto(f"/sessions/{closed.id}")
    expect(page.locator("main")).to_contain_text("Closed session for Northbridge Homes")
    assert_accessible(page)

    page.goto("/agency/single-agency-training")
    expect(page.locator("main")).to_contain_text("Nothing recorded yet")
    assert_accessible(page)
    page.get_by_role("button", name="Record single-agency training").click()
    expect(page.get_by_role("heading", name="Record single-agency training")).to_be_visible()
    page.get_by_label("Title of the training").fill("Recognising neglect on home visits")
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2027")
    page.get_by_label("Hours of training").fill("3")
    page.get_by_label("Level", exact=True).select_option(label="Level 3")
    page.get_by_label("Work e-mail addresses of the staff who attended").fill("nobody@homes.example")
    page.get_by_role("button", name="Record the training").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Nobody has an account with the address")
    assert_accessible(page)
    page.get_by_label("Work e-mail addresses of the staff who attended").fill("tamsin@homes.example")
    page.get_by_role("button", name="Record the training").click()
    expect(page.get_by_role("heading", name="Recognising neglect on home visits")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Tamsin Okafor")
    assert_accessible(page)
    page.get_by_role("link", name="Single-agency training").click()
    page.get_by_role("link", name="Recognising neglect on home visits").click()
    expect(page.get_by_role("heading", name="Recognising neglect on home visits")).to_be_visible()

    page.goto("/agency/single-agency-training/upload")
    expect(page.get_by_role("heading", name="Upload single-agency training")).to_be_visible()
    assert_accessible(page)

    page.goto("/agency/needs")
    expect(page.get_by_role("heading", name="Propose your agency’s training needs")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Staff in scope").fill("40")
    page.get_by_label("How many need Any Level 3 course").fill("12")
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.locator("main")).to_contain_text("Waiting for the L&D team")
    assert_accessible(page)

    page.goto("/sign-out")
    page.get_by_role("button", name="Sign out").click()
    expect(page).not_to_have_url(re.compile(r"/sign-out$"))
    sign_in(page, admin.email)
    page.goto("/reports/needs/proposals")
    page.get_by_role("link", name="Northbridge Homes").click()
    expect(page.get_by_role("heading", name="Needs proposal from Northbridge Homes")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("How many need Any Level 3 course").fill("14")
    page.get_by_role("button", name="Accept these figures").click()
    expect(page.locator("main")).to_contain_text("Accepted")
    assert_accessible(page)
