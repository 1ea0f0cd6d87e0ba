"""Retention: with the clock moved past each period, each job removes exactly what its setting says
and nothing else, once (a second run changes nothing), and the outbox still delivers."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import SignInFailure
from app.bookings.models import Booking
from app.email import FAILED, QUEUED, SENT, Attachment, OutboxMessage, deliver_outbox, queue_email, retry_message
from app.extensions import db
from app.jobs import run_jobs
from app.privacy.jobs import in_batches
from app.privacy.retention import clear_access_needs
from tests.factories import at_london

# Tuesday 15 June 2027, 13:00 in the UK (BST): "today" is 15 June, 30 days back is 16 May.
NOW = datetime(2027, 6, 15, 12, 0)


def _needs(booking: Booking) -> str:
    return db.session.scalar(select(Booking.access_needs).where(Booking.id == booking.id))


def test_booking_needs_go_the_set_number_of_days_after_the_sessions_last_day(
        app, set_now, make_session, make_booking, make_attendee):
    set_now(NOW)
    # Last day 15 May (31 days ago): removed. Its last part ends late in the evening, UK time.
    gone = make_booking(make_session(ends_at=at_london(datetime(2027, 5, 15, 23, 30))),
                        access_needs="Wheelchair space")
    # Last day 16 May: one day inside the 30, so kept, even from its first minute.
    kept = make_booking(make_session(ends_at=at_london(datetime(2027, 5, 16, 0, 30)), hours=0),
                        access_needs="Vegan lunch")
    # Two days far apart: the first long past, the last within the period: kept.
    spread = make_booking(make_session(starts_at=at_london(datetime(2027, 3, 1, 9, 30)), days=2,
                                       every_days=90), access_needs="Hearing loop")
    upcoming = make_booking(make_session(starts_at=at_london(datetime(2027, 7, 1, 9, 30))),
                            access_needs="Step-free access")
    person = make_attendee()
    person.access_needs = "Large print"
    none_given = make_booking(make_session(ends_at=at_london(datetime(2027, 1, 10, 16, 0))), person)
    db.session.commit()

    assert run_jobs("retention_access_needs") == {"retention_access_needs": "1 bookings' needs removed"}

    assert _needs(gone) == ""
    assert [_needs(b) for b in (kept, spread, upcoming)] == ["Vegan lunch", "Hearing loop", "Step-free access"]
    assert _needs(none_given) == ""
    db.session.refresh(person)
    assert person.access_needs == "Large print"  # the profile's own needs stay with the account
    assert run_jobs("retention_access_needs") == {"retention_access_needs": "0 bookings' needs removed"}

    set_now(NOW + timedelta(days=1))
    assert run_jobs("retention_access_needs") == {"retention_access_needs": "1 bookings' needs removed"}
    assert _needs(kept) == "" and _needs(spread) == "Hearing loop"


def test_the_setting_decides_the_period(app, set_now, make_session, make_booking):
    set_now(NOW)
    booking = make_booking(make_session(ends_at=at_london(datetime(2027, 6, 4, 16, 0))), access_needs="Braille")
    app.config["RETENTION_ACCESS_NEEDS_DAYS"] = 11
    assert run_jobs("retention_access_needs")["retention_access_needs"].startswith("0 ")
    app.config["RETENTION_ACCESS_NEEDS_DAYS"] = 10
    assert run_jobs("retention_access_needs")["retention_access_needs"].startswith("1 ")
    assert _needs(booking) == ""


def test_needs_are_removed_in_batches_each_committed(app, set_now, make_session, make_booking):
    set_now(NOW)
    session = make_session(ends_at=at_london(datetime(2027, 4, 1, 16, 0)))
    bookings = [make_booking(session, access_needs=f"Need {n}") for n in range(5)]
    batches = []

    def counted(limit):
        batches.append(clear_access_needs(limit))
        return batches[-1]

    assert in_batches(counted, batch=2) == 5
    assert batches == [2, 2, 1]
    db.session.rollback()  # each batch was committed: nothing is undone
    assert {_needs(b) for b in bookings} == {""}


def _message(key: str, **extra) -> OutboxMessage:
    return queue_email(key=key, to=f"{key}@example.org", subject=f"Your place, {key}",
                       template="accounts/emails/verify", person={"name": "Amara Okafor"},
                       link="http://localhost/x", hours=48, **extra)


def _row(key: str) -> OutboxMessage:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


def test_message_content_goes_the_set_number_of_days_after_sending_or_failing_and_the_row_stays(
        app, set_now, mailbox, make_user):
    set_now(NOW)
    _message("old", attachments=[Attachment("notes.txt", "text/plain", b"A file")])
    queue_email(key="broken", to="broken@example.org", subject="Hello", template="accounts/emails/no_such",
                person=make_user(), render_later=True)
    db.session.commit()
    assert deliver_outbox() == (1, 0)
    set_now(NOW + timedelta(days=1))
    _message("later", render_later=True)
    db.session.commit()
    assert deliver_outbox() == (1, 0)  # the message the runner renders
    set_now(NOW + timedelta(days=89))
    _message("unsent", render_later=True)
    db.session.commit()
    mailbox.refuse = True
    deliver_outbox()  # rendered, then refused for now
    assert _row("unsent").status == QUEUED
    assert _row("broken").status == FAILED and _row("broken").render_json

    set_now(NOW + timedelta(days=90, seconds=1))
    _message("pending", render_later=True)  # queued, not yet rendered by the runner
    db.session.commit()
    result = run_jobs("retention_message_content")
    assert result == {"retention_message_content": "2 messages' content removed"}

    old, broken = _row("old"), _row("broken")
    for row in (old, broken):
        assert (row.subject, row.text_body, row.html_body, row.attachments_json, row.render_json) == ("", "", "", "[]", None)
        assert row.content_removed_at == NOW + timedelta(days=90, seconds=1)
    # What the L&D team needs to say that it was sent: to whom, what kind, when, with which Message-ID.
    assert (old.recipient, old.template, old.status, old.attempts) == ("old@example.org", "accounts/emails/verify", SENT, 1)
    assert old.sent_at == NOW and old.message_id
    assert (broken.template, broken.status) == ("accounts/emails/no_such", FAILED)
    later, unsent = _row("later"), _row("unsent")
    assert later.subject == "Your place, later" and "Amara Okafor" in later.text_body  # sent a day later
    assert unsent.subject == "Your place, unsent" and "Amara Okafor" in unsent.text_body  # not sent: keeps all
    pending = _row("pending")
    assert pending.render_json and pending.subject == "Your place, pending"
    assert run_jobs("retention_message_content") == {"retention_message_content": "0 messages' content removed"}

    set_now(NOW + timedelta(days=91, seconds=1))
    mailbox.refuse = False
    mailbox.clear()
    assert deliver_outbox() == (2, 0)  # delivery goes on unharmed
    received = {m["Subject"]: m for m in mailbox.messages}
    assert set(received) == {"Your place, unsent", "Your place, pending"}
    assert all("Amara Okafor" in m.get_body(preferencelist=("plain",)).get_content() for m in received.values())
    assert run_jobs("retention_message_content") == {"retention_message_content": "1 messages' content removed"}
    assert _row("later").content_removed_at is not None and _row("unsent").text_body != ""


def test_a_message_whose_content_was_removed_cannot_be_tried_again(app, set_now, make_user, login_as):
    set_now(NOW)
    queue_email(key="broken", to="broken@example.org", subject="Hello", template="accounts/emails/no_such",
                person=make_user(), render_later=True)
    db.session.commit()
    deliver_outbox()
    set_now(NOW + timedelta(days=91))
    run_jobs("retention_message_content")
    message = _row("broken")

    admin = make_user(roles=("admin",))
    client = login_as(admin)
    page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "were removed on" in page and "Try again" not in page and "accounts/emails/no_such" in page
    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert "Content removed (accounts/emails/no_such)" in listing and "90 days after a message was sent" in listing
    response = client.post(f"/admin/outbox/{message.id}/retry", follow_redirects=True)
    assert "cannot be sent again" in response.get_data(as_text=True)
    client.post("/admin/outbox/retry-failed")
    assert _row("broken").status == FAILED
    try:
        retry_message(_row("broken"))
    except ValueError:
        pass
    else:
        raise AssertionError("a message with no content left must not go back in the queue")


def test_failed_sign_ins_go_after_the_set_days_never_within_the_pauses_day(app, set_now):
    set_now(NOW)
    for at in (NOW - timedelta(days=2, seconds=1), NOW - timedelta(days=1, seconds=1), NOW - timedelta(hours=23)):
        db.session.add(SignInFailure(address_key="k" * 64, client="203.0.113.7", at=at))
    db.session.commit()

    app.config["RETENTION_FAILED_SIGN_IN_DAYS"] = 2
    assert run_jobs("retention_failed_sign_ins") == {"retention_failed_sign_ins": "1 failed sign-ins deleted"}
    app.config["RETENTION_FAILED_SIGN_IN_DAYS"] = 1
    assert run_jobs("retention_failed_sign_ins") == {"retention_failed_sign_ins": "1 failed sign-ins deleted"}
    app.config["RETENTION_FAILED_SIGN_IN_DAYS"] = 0  # below a day: the pauses still read a day of them
    assert run_jobs("retention_failed_sign_ins") == {"retention_failed_sign_ins": "0 failed sign-ins deleted"}
    assert list(db.session.scalars(select(SignInFailure.at))) == [NOW - timedelta(hours=23)]


def test_failed_sign_ins_outlive_a_lockout_set_longer_than_a_day(app, set_now):
    set_now(NOW)
    db.session.add(SignInFailure(address_key="k" * 64, client="203.0.113.7", at=NOW - timedelta(days=2)))
    db.session.commit()
    app.config["LOCKOUT_MINUTES"] = 3 * 24 * 60
    assert run_jobs("retention_failed_sign_ins") == {"retention_failed_sign_ins": "0 failed sign-ins deleted"}
    app.config["LOCKOUT_MINUTES"] = 15
    assert run_jobs("retention_failed_sign_ins") == {"retention_failed_sign_ins": "1 failed sign-ins deleted"}


def test_a_paused_sign_in_stays_paused_after_the_job(app, set_now, make_user, client):
    set_now(NOW)
    person = make_user(email="amara@example.org")
    for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
        client.post("/sign-in", data={"email": person.email, "password": "wrong password!"})
    set_now(NOW + timedelta(minutes=5))
    app.config["RETENTION_FAILED_SIGN_IN_DAYS"] = 0
    assert run_jobs("retention_failed_sign_ins") == {"retention_failed_sign_ins": "0 failed sign-ins deleted"}
    response = client.post("/sign-in", data={"email": person.email, "password": "correct horse battery"})
    assert response.status_code == 200 and "is paused" in response.get_data(as_text=True)
