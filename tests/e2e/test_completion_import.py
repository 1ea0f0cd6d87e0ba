"""Importing an e-learning provider's completions in real Chromium: an administrator uploads a CSV
with a row that cannot be read and sees it by line, uploads a corrected file, checks the preview
and records it. Every page is checked with axe-core."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect
from sqlalchemy import func, select

from app import clock
from app.bookings.models import Completion
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 5, 10, 9, 0)
HEAD = "name,email,course,completed_on,score\n"


def test_an_administrator_imports_an_export(app, browser_page, make_user, make_agency, make_course, tmp_path):
    clock.set_now(NOW)
    agency = make_agency("Northbridge Council", domains=("nbc.example",))
    admin = make_user(name="Adaeze Fairweather", email="adaeze@nbc.example", agency=agency, roles=("admin",))
    make_user(name="Jo Okafor-Lindqvist", email="jo@nbc.example", agency=agency)
    make_course("Introductory online safeguarding", code="EL1", is_online=True)
    db.session.commit()
    bad, good = tmp_path / "bad.csv", tmp_path / "export.csv"
    bad.write_text(HEAD + "Jo Okafor-Lindqvist,jo@nbc.example,EL1,someday,80\n")
    good.write_text(HEAD + "Jo Okafor-Lindqvist,JO@nbc.example,EL1,01/05/2027,80\n"
                    "Mo Newcombe,mo.newcombe@nbc.example,EL1,2027-05-02,\n"
                    "Sam Stranger,sam@elsewhere.example,EL1,2027-05-02,\n")
    page = browser_page

    sign_in(page, admin.email)
    page.goto("/admin")
    page.get_by_role("link", name="Import e-learning completions").click()
    expect(page.locator("h1")).to_have_text("Import e-learning completions")
    assert_accessible(page)

    page.get_by_label("CSV or XLSX file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator(".app-problems")).to_contain_text("“someday” is not a date")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("CSV or XLSX file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("h1")).to_have_text("Check the completions before they are recorded")
    expect(page.locator("table[data-kind=new]")).to_contain_text("Mo Newcombe")
    expect(page.locator("table[data-kind=unmatched]")).to_contain_text("not on an agency’s domain")
    assert_accessible(page)

    page.get_by_role("button", name="Record 2 completions").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Recorded 2 completions (1 new account)")
    assert_accessible(page)
    db.session.rollback()  # end the test's own read, to see what the server committed
    assert db.session.scalar(select(func.count(Completion.id))) == 2
