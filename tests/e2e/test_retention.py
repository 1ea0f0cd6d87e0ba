"""An administrator reads a message whose content the retention job removed: what is kept is shown,
nothing can be sent again, and the pages pass axe-core."""
from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from app import clock
from app.email import deliver_outbox, queue_email
from app.extensions import db
from app.jobs import run_jobs
from tests.e2e.conftest import assert_accessible, sign_in

NOW = datetime(2027, 6, 15, 12, 0)


def test_an_outbox_message_with_its_content_removed(app, browser_page, mailbox, make_user):
    clock.set_now(NOW)
    admin = make_user(name="Priya Admin", email="priya@northbridge.example", roles=("admin",))
    queue_email(key="old", to="amara@northbridge.example", subject="Your place on Level 3",
                template="accounts/emails/verify", person={"name": "Amara Okafor"},
                link="http://localhost/x", hours=48)
    db.session.commit()
    deliver_outbox()
    clock.set_now(NOW + timedelta(days=91))
    assert run_jobs("retention_message_content") == {"retention_message_content": "1 messages' content removed"}

    page = browser_page
    sign_in(page, admin.email)
    page.goto("/admin/outbox")
    link = page.get_by_role("link", name="Content removed (accounts/emails/verify)")
    expect(page.locator("table")).to_contain_text("amara@northbridge.example")
    assert_accessible(page)
    link.click()
    expect(page.locator("main")).to_contain_text("were removed on")
    assert page.get_by_role("button", name="Try again").count() == 0
    assert "Amara Okafor" not in page.content()
    assert_accessible(page)
