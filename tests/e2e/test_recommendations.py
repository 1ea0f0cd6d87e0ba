"""Issue 17's journey in Chromium: the L&D team record a serious case review and a recommendation,
link the course that answers it, the course page names it, and a reviewer reads the report."""
from datetime import datetime

from playwright.sync_api import expect

from app.accounts.models import ADMIN, REVIEWER
from app.bookings.models import ATTENDED
from tests.e2e.conftest import assert_accessible, sign_in


def test_record_a_review_link_its_training_and_read_the_report(app, browser_page, open_page, set_now, make_user,
                                                             make_agency, make_course, make_session,
                                                             make_attendee, make_booking):
    set_now(datetime(2026, 10, 1, 9, 0))
    police = make_agency("Northbridge Police", sector="Police")
    course = make_course("Learning from Child R", "SCR-R")
    session = make_session(course, datetime(2026, 6, 9, 9, 0))
    for i in range(6):
        make_booking(session, make_attendee(f"Officer {i}", agency=police), outcome=ATTENDED)
    admin = make_user(name="Adaeze Admin", email="adaeze@example.org", roles=(ADMIN,), agency=police)
    reviewer = make_user(name="Rhiannon Reviewer", email="rhiannon@example.org", roles=(REVIEWER,), agency=police)
    page = browser_page
    sign_in(page, admin.email)

    page.goto("/admin/")
    page.get_by_role("link", name="Reviews, audits and their recommendations").click()
    expect(page.locator("h1")).to_have_text("Reviews, audits and their recommendations")
    assert_accessible(page)
    page.get_by_role("button", name="Record a review, audit or finding").click()
    expect(page.locator("h1")).to_have_text("Record a review, audit or finding")
    page.get_by_label("Kind of source").select_option("scr")
    page.get_by_label("Title").fill("Child R")
    page.get_by_label("Day").fill("2")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Year").fill("2099")
    page.get_by_role("button", name="Save source").click()
    # A date to come is refused beside its field, and the error summary links to it.
    expect(page.locator(".govuk-error-summary")).to_contain_text("The publication date must be today or in the past")
    assert_accessible(page)
    page.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Save source").click()
    expect(page.locator("h1")).to_have_text("Child R")
    assert_accessible(page)

    page.get_by_role("button", name="Add a recommendation").click()
    expect(page.locator("h1")).to_have_text("Add a recommendation")
    expect(page.get_by_label("Number")).to_have_value("1")
    page.get_by_label("Recommendation").fill("Practitioners share chronologies with schools.")
    page.get_by_role("button", name="Save recommendation").click()
    expect(page.locator("h1")).to_have_text("Training that answers recommendation 1")
    assert_accessible(page)
    page.get_by_label("Learning from Child R (SCR-R)").check()
    page.get_by_role("button", name="Save training").click()
    expect(page.locator("h1")).to_have_text("Child R")
    expect(page.locator("main")).to_contain_text("Learning from Child R (every session)")
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Training linked")

    page.goto("/courses/SCR-R")
    expect(page.locator("#recommendations-answered")).to_be_visible()
    expect(page.locator("main")).to_contain_text("This training answers recommendation 1 of Child R")
    assert_accessible(page)

    board = open_page(viewport={"width": 1280, "height": 900})
    sign_in(board, reviewer.email)
    board.goto("/reports")
    board.get_by_role("link", name="Learning from reviews").click()
    expect(board.locator("h1")).to_have_text("Learning from reviews")
    expect(board.locator("main")).to_contain_text("Practitioners share chronologies with schools.")
    # Six officers attended: shown to the board, as the one sector they came from.
    people = board.locator(".govuk-summary-list__row", has_text="People who attended")
    expect(people).to_contain_text("6")
    assert_accessible(board)
