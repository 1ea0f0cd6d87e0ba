"""Two agencies with staff, bookings, attendance, completions, certificates, charges and a
refresher due, a published programme, and a token for each agency (made through the real rules)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from app.accounts.models import ADMIN, COORDINATOR
from app.api.tokens import create_token
from app.attendance.charges import raise_charge
from app.attendance.models import Certificate
from app.bookings.models import ATTENDED, DID_NOT_ATTEND, Completion
from app.extensions import db

NOW = datetime(2026, 10, 1, 9, 0)


@pytest.fixture
def world(app, set_now, make_agency, make_user, make_course, make_session, make_booking):
    set_now(NOW)
    agencies, people = {}, {}
    course = make_course("Safeguarding Level 3", code="SG3", charge_pence=5000,
                         refresher_months=12)
    past = make_session(course, datetime(2026, 6, 10, 9, 0))
    upcoming = make_session(course, datetime(2026, 11, 5, 9, 0))
    make_session(course, datetime(2026, 12, 5, 9, 0), status="draft")
    admin = make_user(name="Ada Admin", roles=(ADMIN,))
    for key, name in (("a", "Riverside Health"), ("b", "Hillside Schools")):
        agency = agencies[key] = make_agency(name)
        coordinator = make_user(name=f"Coordinator {key.upper()}", agency=agency, roles=(COORDINATOR,))
        attendee = make_user(name=f"Attendee {key.upper()}", agency=agency)
        absentee = make_user(name=f"Absentee {key.upper()}", agency=agency)
        people[key] = SimpleNamespace(coordinator=coordinator, attendee=attendee, absentee=absentee)
        attended = make_booking(past, attendee, outcome=ATTENDED, history=True)
        missed = make_booking(past, absentee, outcome=DID_NOT_ATTEND, history=True)
        make_booking(upcoming, attendee)
        db.session.add(Certificate(booking_id=attended.id, code=f"CERT-{key.upper()}-0001",
                                   issued_at=datetime(2026, 6, 20, 12, 0)))
        db.session.add(Completion(user=attendee, course=course, completed_on=date(2025, 10, 15),
                                  source="attendance"))
        raise_charge(missed, "did_not_attend")
    db.session.commit()
    tokens = {}
    for key, agency in agencies.items():
        tokens[key] = create_token(agency, name=f"HR system {key}", scopes=["read"], days=90,
                                   actor=people[key].coordinator).secret
    db.session.commit()
    return SimpleNamespace(agencies=agencies, people=people, tokens=tokens, admin=admin, course=course,
                           past=past, upcoming=upcoming)


@pytest.fixture
def call(client):
    """call(path, token, **headers): a GET to the API with a bearer token (None: without one)."""

    def _call(path: str, token: str | None, **headers):
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.get(path, headers={k.replace("_", "-"): v for k, v in headers.items()})

    return _call
