"""Registers and attendance: the day sessions start, the course and room they use unless a test
says otherwise (for the shared factories: `make_session(course=make_course(**COURSE), starts_at=DAY,
**ROOM)`), certificate gates and reading PDFs.

Bookings are made directly (the booking services belong to the bookings domain).
"""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from flask import g
from flask.testing import FlaskClient
from pypdf import PdfReader

from tests.conftest import TEST_PASSWORD
from tests.factories import at_london  # noqa: F401  (the tests import it from here)

# A Wednesday; sessions in tests start at 9:30 UK time (GMT, so the same in UTC) on this day unless said.
DAY = datetime(2027, 3, 3, 9, 30)
COURSE = {"charge_pence": 7500, "refresher_months": 36, "level": "Level 3"}
ROOM = {"capacity": 24, "venue": "Northbridge Civic Centre, Room 2"}



class SignedInClient(FlaskClient):
    """A test client that forgets the previous request's signed-in person.

    The `app` fixture holds one app context for the whole test, and requests reuse it, so
    Flask-Login's cached `g._login_user` would otherwise leak from one client to the next.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def sign_in(app):
    """A fresh browser-like client signed in as `person`."""

    def _sign_in(person):
        client = SignedInClient(app, app.response_class, use_cookies=True)
        response = client.post("/sign-in", data={"email": person.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
        return client

    return _sign_in


@pytest.fixture
def only_test_gates():
    """Certificate gates for this test alone (other domains register theirs at import)."""
    from app.attendance.certificates import certificate_gates

    saved = list(certificate_gates)
    certificate_gates.clear()
    yield certificate_gates
    certificate_gates[:] = saved


def pdf_text(data: bytes) -> str:
    """The text of a PDF, as pypdf extracts it."""
    assert data[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
