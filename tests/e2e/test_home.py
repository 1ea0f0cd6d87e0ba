"""The public pages render in a real browser with the partnership's branding and no axe violations."""
from tests.e2e.conftest import assert_accessible


def test_home_sign_in_and_register_pages_are_accessible(browser_page):
    page = browser_page
    for path, heading in [("/", "Multi-agency safeguarding training"), ("/sign-in", "Sign in"),
                          ("/register", "Create an account"), ("/password/forgotten", "Reset your password")]:
        page.goto(path)
        assert page.locator("h1").inner_text() == heading
        assert "Northbridge Safeguarding Children Partnership" in page.locator("header").first.inner_text()
        assert page.locator(".govuk-header__logotype").count() == 0, "no crown / GOV.UK branding"
        assert_accessible(page)


def test_not_found_page_is_friendly(browser_page):
    response = browser_page.goto("/no-such-page")
    assert response.status == 404
    assert "Page not found" in browser_page.locator("h1").inner_text()
    assert_accessible(browser_page)


def test_privacy_page_is_accessible(browser_page, app):
    app.config.update(SMALL_GROUP_MINIMUM=5, DORMANT_ACCOUNT_MONTHS=24, DORMANT_WARNING_DAYS=30,
                      ACCESS_LOG_RETENTION_MONTHS=24)
    browser_page.goto("/privacy")
    assert browser_page.locator("h1").inner_text() == "How we use your information"
    assert "Removed from the booking 30 days after" in browser_page.locator("table").inner_text()
    assert_accessible(browser_page)
