"""Issue 7's journey in Chromium: import a training needs analysis, open the sector report, follow a
gap to the people behind it, and export the report as XLSX."""
import pytest
from openpyxl import load_workbook

from app.accounts.models import ADMIN
from app.extensions import db
from tests.e2e.conftest import assert_accessible, sign_in
from tests.reports.conftest import (  # noqa: F401  (the reports' fixtures, used here too)
    dataset,
    make_completion,
    make_tna,
)

CSV = """sector,agency,course_code,course_title,level,staff_in_scope,needed
Police,,,,Level 3,120,12
Police,,SCR,Serious Case Review workshop,,120,6
Health - acute,,,,Level 3,50,5
Health - acute,,SCR,Serious Case Review workshop,,,
"""


def test_import_a_needs_analysis_follow_a_gap_and_export(app, browser_page, dataset, make_user, tmp_path):
    admin = make_user(name="Adaeze Admin", email="adaeze@example.org", roles=(ADMIN,), agency=dataset.trust)
    db.session.delete(dataset.tna)  # the journey imports its own
    db.session.commit()
    page = browser_page
    sign_in(page, admin.email)

    page.locator(".govuk-service-navigation").get_by_role("link", name="Reports").click()
    assert page.locator("h1").inner_text() == "Reports"
    assert_accessible(page)
    page.get_by_role("link", name="Start a new analysis or import one").click()
    assert page.locator("h1").inner_text() == "New training needs analysis"
    assert page.get_by_label("Name").input_value() == "Training needs 2026 to 2027"
    assert_accessible(page)

    # A file with a mistake is refused with its line number, and nothing is saved.
    page.get_by_label("Import the needs from a CSV file (optional)").set_input_files(files=[{
        "name": "needs.csv", "mimeType": "text/csv",
        "buffer": (CSV + "Polise,,,,Level 3,10,1\n").encode()}])
    page.get_by_role("button", name="Continue").click()
    problems = page.locator(".app-problems").inner_text()
    assert "6" in problems and "unknown sector “Polise”" in problems
    assert_accessible(page)

    page.get_by_label("Import the needs from a CSV file (optional)").set_input_files(files=[{
        "name": "needs.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Check the import before it is applied", page.locator("main").inner_text()
    assert page.locator("tr[data-kind=added]").count() == 3  # the row left blank is ignored
    assert_accessible(page)
    page.get_by_role("button", name="Apply the import").click()
    assert "Imported: 3 added, 0 changed, 0 unchanged." in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("h1").inner_text() == "Training needs 2026 to 2027"
    assert_accessible(page)

    page.get_by_role("link", name="See attendance against this analysis").click()
    assert page.locator("h1").inner_text() == "Attendance against need"
    captions = page.locator("caption.govuk-table__caption--s").all_inner_texts()
    # Police met 3 of 18 (17%), health 1 of 5 (20%): the furthest behind comes first.
    assert captions == ["Police: 17% of need met", "Health - acute: 20% of need met"]
    assert page.locator("svg[role=img] title").count() >= 1
    assert_accessible(page)

    # Police's Level 3: 12 needed, 2 attended, so 10 still to train.
    page.get_by_role("link", name="10 still to train: Any Level 3 course, Police").click()
    assert page.locator("h1").inner_text().startswith("Behind the gap")
    main = page.locator("main").inner_text()
    assert "Bob Bramwell" in main and "Ivy Ilsley" in main and "Ann Achterberg" not in main
    assert_accessible(page)

    page.go_back()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as a spreadsheet (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename == "attendance-2026-04-01-to-2027-03-31.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = load_workbook(path).active
    police = next(row for row in sheet.iter_rows(min_row=4)
                  if [c.value for c in row[:3]] == ["Police", "Whole sector", "Any Level 3 course"])
    # In scope, needed, booked, attended, trained by their agency, gap; then % met and refreshers due.
    assert [c.value for c in police[3:9]] == [120, 12, 3, 2, 0, 10] and police[10].value == 1
    # 2 of 12 met: a fraction in a percentage cell, which Excel shows as 17%.
    assert police[9].value == pytest.approx(2 / 12) and police[9].number_format == "0%"
