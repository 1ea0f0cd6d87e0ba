"""The page frame at a laptop's width: the header navigation of the roles with the most items."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in


@pytest.mark.parametrize("roles", [("coordinator",), ("reviewer",), ("admin",), ("admin", "trainer", "reviewer")])
def test_sign_out_stays_on_the_first_line_of_the_navigation_at_1280px(browser_page, make_user, make_agency, roles):
    person = make_user(email="staff@northbridge.example", roles=roles, agency=make_agency())
    page = browser_page
    sign_in(page, person.email)
    page.goto("/programme")

    items = page.locator(".govuk-service-navigation__item")
    assert items.count() >= 8
    first = items.first.get_by_role("link").bounding_box()
    sign_out = items.last.get_by_role("link", name="Sign out").bounding_box()
    assert abs(sign_out["y"] - first["y"]) < 5 and sign_out["height"] < first["height"] * 1.5
    assert sign_out["x"] + sign_out["width"] <= page.evaluate("window.innerWidth")
