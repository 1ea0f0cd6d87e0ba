"""API tokens in real Chromium: a coordinator goes from their agency's page to its API tokens,
creates one (a mistake first), copies it once, revokes it after confirming; and the API reference
page. Every page is checked with axe-core."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect

from app import clock
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 3, 1, 9, 0)


def test_a_coordinator_creates_and_revokes_a_token(app, browser_page, make_user, make_agency, live_server):
    clock.set_now(NOW)
    agency = make_agency("Riverside Mental Health")
    coordinator = make_user(name="Tomasz Greenhalgh", email="tomasz@riverside.example", agency=agency,
                            roles=("coordinator",))
    page = browser_page

    sign_in(page, coordinator.email)
    page.goto("/agency")
    page.get_by_role("link", name="API tokens for the agency's own systems").click()
    expect(page.locator("h1")).to_have_text("Riverside Mental Health")
    expect(page.locator("main")).to_contain_text("The agency has no tokens.")
    assert_accessible(page)

    page.get_by_role("button", name="Create a token").click()
    expect(page.locator("h1")).to_have_text("Create an API token")
    assert_accessible(page)
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a name")
    assert_accessible(page)

    page.get_by_label("Name").fill("Payroll link")
    page.get_by_label("Read the programme").check()
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("h1")).to_have_text("Your new API token")
    secret = page.get_by_label("Token for Payroll link").input_value()
    assert secret.startswith("sgt_") and len(secret) == 47
    assert_accessible(page)

    answer = page.request.get(f"{live_server.url}/api/v1/agency/bookings", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status == 200 and answer.json()["total"] == 0

    page.get_by_role("link", name="Back to the agency's tokens").click()
    expect(page.locator("table")).to_contain_text("Payroll link")
    assert secret not in page.content()
    page.get_by_role("link", name="Revoke Payroll link").click()
    expect(page.locator("h1")).to_have_text("Revoke the token Payroll link?")
    assert_accessible(page)
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator("[data-flash-category=success]")).to_contain_text("was revoked")
    expect(page.locator("table")).to_contain_text("Revoked")
    assert_accessible(page)
    refused = page.request.get(f"{live_server.url}/api/v1/agency/bookings", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401


def test_the_api_reference_page(app, browser_page):
    page = browser_page
    page.goto("/api/v1/docs")
    expect(page.locator("h1")).to_contain_text("API")
    expect(page.locator("main")).to_contain_text("GET /api/v1/agency/bookings")
    expect(page.locator("main")).to_contain_text("POST /api/v1/agency/completions")
    expect(page.locator("main")).to_contain_text("DELETE /api/v1/agency/bookings/{booking_id}")
    assert_accessible(page)
