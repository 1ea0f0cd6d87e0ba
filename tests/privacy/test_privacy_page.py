"""The privacy page is written from the settings: change a setting and the page says so."""
from __future__ import annotations

import re


def _text(client) -> str:
    response = client.get("/privacy")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def test_the_page_gives_each_retention_period_from_the_settings(app, client):
    page = _text(client)
    assert "Removed from the booking 30 days after the session’s last day" in page
    assert "removed 90 days after it was sent" in page
    assert "Deleted after 1 day." in page

    app.config.update(RETENTION_ACCESS_NEEDS_DAYS=14, RETENTION_MESSAGE_BODY_DAYS=60, RETENTION_FAILED_SIGN_IN_DAYS=3)
    page = _text(client)
    assert "Removed from the booking 14 days after the session’s last day" in page
    assert "Removed from the booking 30 days" not in page and "removed 90 days" not in page
    assert "removed 60 days after it was sent" in page
    assert "Deleted after 3 days." in page


def test_a_failed_sign_in_period_below_a_day_is_shown_as_the_day_the_service_keeps(app, client):
    app.config["RETENTION_FAILED_SIGN_IN_DAYS"] = 0
    assert "Deleted after 1 day." in _text(client)


def test_the_other_parts_periods_come_from_their_settings(app, client):
    page = _text(client)
    assert "An account not used for 36 months is closed" in page and "we e-mail you 30 days before" in page
    assert "never show a group of fewer than 5 people" in page and "Deleted after 24 months." in page
    app.config.update(SMALL_GROUP_MINIMUM=7, DORMANT_ACCOUNT_MONTHS=30, DORMANT_WARNING_DAYS=21,
                      ACCESS_LOG_RETENTION_MONTHS=24)
    page = _text(client)
    assert "never show a group of fewer than 7 people" in page
    assert "never for a group of fewer than 7 people" in page
    assert "An account not used for 30 months is closed" in page and "we e-mail you 21 days before" in page
    assert "Deleted after 24 months." in page and "keeps that record for 24 months" in page


def test_the_page_says_how_to_ask_for_a_copy_or_erasure(app, client):
    html = client.get("/privacy").get_data(as_text=True)
    assert 'href="/account/data"' in html  # Your data: a copy, and asking for erasure
    assert "Erasure." in html and f'mailto:{app.config["L_AND_D_EMAIL"]}' in html
