"""The access log in real Chromium: an administrator looks at a person's page, then follows its link
to who has looked at that person, narrows the log and pages through it. Every page is checked with
axe-core."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect

from app import clock
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 3, 1, 9, 0)


def test_an_administrator_sees_who_looked_at_a_person(app, browser_page, make_user):
    clock.set_now(NOW)
    admin = make_user(name="Adaeze Fairweather", email="adaeze@lscb.example", roles=("admin",))
    jo = make_user(name="Jo Okafor-Lindqvist", email="jo@council.example")
    page = browser_page

    sign_in(page, admin.email)
    page.goto(f"/admin/people/{jo.id}")
    page.get_by_role("link", name="Who has looked at pages about Jo Okafor-Lindqvist").click()

    expect(page.locator("h1")).to_have_text("Access log")
    table = page.locator("table").inner_text()
    assert "Adaeze Fairweather" in table and "accounts.admin_person" in table
    expect(page.get_by_role("status")).to_contain_text("1 entry")
    assert_accessible(page)

    page.get_by_label("What they saw").select_option(label="Evaluation answers")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status")).to_contain_text("0 entries")  # waits for the new page
    expect(page.locator("main")).to_contain_text("Nothing in the access log matches.")
    assert_accessible(page)

    page.get_by_label("Day").first.fill("31")
    page.get_by_label("Month").first.fill("2")
    page.get_by_label("Year").first.fill("2027")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".govuk-error-message").first).to_be_visible()  # waits for the new page
    assert_accessible(page)
