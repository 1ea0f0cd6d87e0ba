"""Dormant accounts: warned DORMANT_WARNING_DAYS before DORMANT_ACCOUNT_MONTHS without use, then
closed and anonymised unless the person signed in or booked meanwhile."""
from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from app.accounts.models import ACTIVE, ERASED, User
from app.extensions import db
from app.privacy.jobs import dormant_accounts
from tests.conftest import TEST_PASSWORD

START = datetime(2027, 1, 4, 9, 0)
CLOSES = START + relativedelta(months=36)


def _run(set_now, moment: datetime) -> str:
    set_now(moment)
    result = dormant_accounts()
    db.session.expire_all()
    return result


def test_an_unused_account_is_warned_then_anonymised(app, set_now, make_user, make_attendee,
                                                     make_session, make_booking, deliver, mailbox):
    set_now(START)
    idle = make_user(name="Ivo Idlewood", email="ivo.idlewood@example.org")
    returning = make_user(name="Rhea Returner", email="rhea.returner@example.org")
    booked = make_attendee(name="Bea Booker")

    assert _run(set_now, CLOSES - timedelta(days=31)) == "0 warned, 0 closed and anonymised"
    set_now(CLOSES - timedelta(days=100))
    make_booking(make_session(), booked)  # a booking is use, as much as signing in

    assert _run(set_now, CLOSES - timedelta(days=29)) == "2 warned, 0 closed and anonymised"
    deliver()
    warning = mailbox.to("ivo.idlewood@example.org")
    assert len(warning) == 1 and warning[0]["Subject"] == "Your training account will be closed"
    # Closed no sooner than 36 months after last use, and never less than 30 days after the warning.
    assert "5 January 2030" in warning[0].get_body(("plain",)).get_content()
    assert not mailbox.to("bea") and len(mailbox.messages) == 2
    # Running again warns no one twice.
    assert _run(set_now, CLOSES - timedelta(days=20)) == "0 warned, 0 closed and anonymised"

    # Rhea signs in during the warning.
    set_now(CLOSES - timedelta(days=10))
    client = app.test_client()
    assert client.post("/sign-in", data={"email": "rhea.returner@example.org",
                                         "password": TEST_PASSWORD}).status_code == 302

    # Not yet: the warning has to have run its full 30 days.
    assert _run(set_now, CLOSES) == "0 warned, 0 closed and anonymised"
    assert _run(set_now, CLOSES + timedelta(days=1)) == "0 warned, 1 closed and anonymised"
    idle, returning = db.session.get(User, idle.id), db.session.get(User, returning.id)
    assert idle.status == ERASED and idle.name == "Erased person"
    assert returning.status == ACTIVE and returning.name == "Rhea Returner"
    assert db.session.get(User, booked.id).name == "Bea Booker"

    # Rhea's clock started again at her sign-in: warned 30 days before 36 months from it.
    first_warning = returning.dormant_warned_at
    rhea_closes = CLOSES - timedelta(days=10) + relativedelta(months=36)
    _run(set_now, rhea_closes - timedelta(days=31))
    assert db.session.get(User, returning.id).dormant_warned_at == first_warning
    _run(set_now, rhea_closes - timedelta(days=29))
    assert db.session.get(User, returning.id).dormant_warned_at == rhea_closes - timedelta(days=29)


def test_the_settings_set_the_periods(app, set_now, make_attendee):
    app.config.update(DORMANT_ACCOUNT_MONTHS=12, DORMANT_WARNING_DAYS=7)
    set_now(START)
    person = make_attendee()
    assert _run(set_now, START + relativedelta(months=12) - timedelta(days=8)).startswith("0 warned")
    assert _run(set_now, START + relativedelta(months=12) - timedelta(days=6)).startswith("1 warned")
    assert _run(set_now, START + relativedelta(months=12) + timedelta(days=1)).endswith("1 closed and anonymised")
    assert db.session.get(User, person.id).status == ERASED
