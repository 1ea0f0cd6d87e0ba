"""The outbox: queued with the change, sent after commit, retried, never sent twice; the
administrators' copy never holds a working secret link."""
import base64
import json
import re
from datetime import timedelta

import pytest

from sqlalchemy import select

from app import clock
from app.email import (
    FAILED, QUEUED, SENT, Attachment, OutboxMessage, calendar_part, deliver_outbox, queue_email,
)
from app.extensions import db
from app.jobs import run_jobs
from app.urls import SECRET_ARGUMENTS, external_url, mask_secret_links


def _queue(key="k1", to="amara@example.org", **extra):
    return queue_email(key=key, to=to, subject="Hello", template="accounts/emails/verify",
                       person={"name": "Amara"}, link="http://localhost/x", hours=48, **extra)


def test_delivers_plain_text_html_and_attachments_to_a_real_smtp_server(app, mailbox):
    _queue(attachments=[Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR")])
    db.session.commit()

    assert deliver_outbox() == (1, 0)

    [received] = mailbox.messages
    assert received["To"] == "amara@example.org"
    assert received["Subject"] == "Hello"
    text = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    assert "Dear Amara" in text and "http://localhost/x" in text
    assert "<a href=\"http://localhost/x\"" in html
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert db.session.scalar(select(OutboxMessage.status)) == SENT


CALENDAR = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a@b\r\nSUMMARY:Café\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


def test_an_inline_calendar_travels_as_a_text_calendar_body_part_beside_text_and_html(app, mailbox):
    _queue(attachments=[calendar_part("REQUEST", CALENDAR.encode()),
                        Attachment("notes.txt", "text/plain", b"A file")])
    db.session.commit()
    assert deliver_outbox() == (1, 0)

    [received] = mailbox.messages
    assert received.get_content_type() == "multipart/mixed"
    [alternative] = [p for p in received.iter_parts() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    calendar = list(alternative.iter_parts())[2]
    assert calendar.get_param("method") == "REQUEST" and calendar.get_content_charset() == "utf-8"
    assert calendar.get_content_disposition() is None  # a body, not an attachment
    assert calendar.get_content().replace("\r\n", "\n") == CALENDAR.replace("\r\n", "\n")
    # Only the file is an attachment.
    assert [a.get_filename() for a in received.iter_attachments()] == ["notes.txt"]
    assert "Dear Amara" in received.get_body(preferencelist=("plain",)).get_content()
    assert [a.filename for a in db.session.scalar(select(OutboxMessage)).attachments] == ["invite.ics", "notes.txt"]


def test_a_message_queued_before_inline_parts_keeps_its_attachment(app, mailbox):
    message = _queue()
    message.attachments_json = json.dumps([{"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST",
                                            "data": base64.b64encode(CALENDAR.encode()).decode()}])
    db.session.commit()
    assert deliver_outbox() == (1, 0)
    [received] = mailbox.messages
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "invite.ics" and attachment.get_param("method") == "REQUEST"


def test_a_message_has_at_most_one_inline_part_of_a_type(app):
    with pytest.raises(ValueError):
        _queue(attachments=[calendar_part("REQUEST", b"BEGIN:VCALENDAR"), calendar_part("CANCEL", b"BEGIN:VCALENDAR")])
    with pytest.raises(ValueError):
        _queue(attachments=[Attachment("x.png", "image/png", b"PNG", inline=True)])


def test_the_same_key_queues_one_message(app, mailbox):
    assert _queue() is not None
    assert _queue() is None
    db.session.commit()
    deliver_outbox()
    deliver_outbox()
    assert len(mailbox.messages) == 1


def test_rolled_back_change_sends_nothing(app, mailbox):
    _queue()
    db.session.rollback()
    assert deliver_outbox() == (0, 0)
    assert mailbox.messages == []


def test_a_refusing_server_leaves_the_message_queued_and_a_later_run_sends_it_once(app, mailbox):
    _queue()
    db.session.commit()
    mailbox.refuse = True

    assert deliver_outbox() == (0, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == QUEUED and message.attempts == 1
    assert "451" in message.last_error

    mailbox.refuse = False
    assert deliver_outbox() == (0, 0), "it waits for its back-off"
    clock.set_now(clock.utcnow() + timedelta(minutes=5))
    assert deliver_outbox() == (1, 0)
    assert deliver_outbox() == (0, 0)
    assert len(mailbox.messages) == 1


def test_a_server_that_is_down_leaves_messages_queued(app, mailbox):
    _queue()
    db.session.commit()
    app.config["MAIL_PORT"] = 1  # nothing listens there
    app.extensions["mail"].port = 1
    assert deliver_outbox() == (0, 1)
    assert db.session.scalar(select(OutboxMessage.status)) == QUEUED
    assert mailbox.messages == []


def test_retries_for_the_retry_window_then_fails_and_an_administrator_can_retry_it(app, mailbox, make_user, login_as):
    _queue()
    db.session.commit()
    mailbox.refuse = True
    start = clock.utcnow()
    attempts_at = []
    while clock.utcnow() < start + timedelta(hours=60):
        if deliver_outbox().failed:
            attempts_at.append(clock.utcnow())
        clock.set_now(clock.utcnow() + timedelta(minutes=1))
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == FAILED
    assert message.attempts == len(attempts_at)
    # Growing gaps, never more than four hours, and tried until about 48 hours after queueing.
    gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:])]
    assert gaps == sorted(gaps) and max(gaps) <= timedelta(hours=4, minutes=1)
    assert attempts_at[-1] - start >= timedelta(hours=44)
    assert attempts_at[-1] - start <= timedelta(hours=48)

    mailbox.refuse = False
    admin = make_user(roles=("admin",))
    client = login_as(admin)
    page = client.get(f"/admin/outbox/{message.id}")
    assert "Try again" in page.get_data(as_text=True)
    client.post(f"/admin/outbox/{message.id}/retry")
    assert deliver_outbox() == (1, 0)
    assert len(mailbox.messages) == 1


def test_two_runs_at_once_send_each_message_once(app, mailbox):
    import threading

    for n in range(30):
        _queue(key=f"k{n}", to=f"p{n}@example.org")
    db.session.commit()
    results = []

    def run():
        with app.app_context():
            results.append(run_jobs())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert len(mailbox.messages) == 30
    assert len({m["To"] for m in mailbox.messages}) == 30
    assert set(db.session.scalars(select(OutboxMessage.status))) == {SENT}


def test_outbox_page_is_for_administrators_only(app, make_user, login_as):
    learner = make_user()
    client = login_as(learner)
    assert client.get("/admin/outbox").status_code == 403


def test_outbox_list_links_each_message(app, make_user, login_as):
    _queue(key="k-link")
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    client = login_as(make_user(roles=("admin",)))
    html = client.get("/admin/outbox").get_data(as_text=True)
    assert f'<a class="govuk-link" href="/admin/outbox/{message.id}">Hello</a>' in html


def test_an_administrator_reading_a_reset_email_in_the_outbox_cannot_find_the_working_link(
        app, mailbox, make_user, login_as):
    make_user(name="Dev Person", email="dev@example.org")
    assert app.test_client().post("/password/forgotten", data={"email": "dev@example.org"}).status_code == 200
    assert deliver_outbox() == (1, 0)
    [received] = mailbox.to("dev@example.org")
    text = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    token = re.search(r"/password/reset/([^\s\"<]+)", text).group(1)
    assert f"/password/reset/{token}" in html
    assert "New password" in app.test_client().get(f"/password/reset/{token}").get_data(as_text=True)

    client = login_as(make_user(roles=("admin",)))
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "dev@example.org"))
    for path in ("/admin/outbox", f"/admin/outbox/{message.id}"):
        page = client.get(path).get_data(as_text=True)
        for piece in [token] + [part for part in token.split(".") if len(part) > 5]:
            assert piece not in page, (path, piece)
    assert "/password/reset/[hidden]" in page and "Dear Dev Person" in page


def test_every_secret_link_is_masked_in_text_and_html_and_other_links_are_not(app):
    secret = "Secret.Tok-en_42"
    rules = [rule for rule in app.url_map.iter_rules() if rule.arguments & SECRET_ARGUMENTS]
    endpoints = {rule.endpoint for rule in rules}
    assert {"accounts.reset_password", "accounts.verify_email", "evaluation.answer",
            "evaluation.manager_comment", "bookings.approval", "bookings.calendar_feed"} <= endpoints
    with app.test_request_context():
        for endpoint in endpoints:
            link = external_url(endpoint, token=secret)
            text = f"Open this link:\n{link}\n"
            html = f'<p><a href="{link}" style="color: #1d70b8;">{link}</a>.</p>'
            for body in (text, html):
                masked = mask_secret_links(body)
                assert secret not in masked and "Tok" not in masked, (endpoint, masked)
                assert "[hidden]" in masked
        query = mask_secret_links('<a href="http://old.example/programme?x=1&amp;token=abcdef">')
        assert "abcdef" not in query
        plain = ("See http://localhost/programme.ics, http://localhost/sessions/3 and "
                 "http://localhost/courses/L3SAFE. Join at https://meet.example/j/123?pwd=xyz")
        assert mask_secret_links(plain) == plain


def test_a_message_without_an_error_shows_a_dash_not_none(app, make_user, login_as):
    _queue(key="k-no-error")
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    client = login_as(make_user(roles=("admin",)))
    page = re.sub(r"\s+", " ", client.get(f"/admin/outbox/{message.id}").get_data(as_text=True))
    row = re.search(r"Last error </dt> <dd[^>]*>(.*?)</dd>", page).group(1)
    assert row.strip() == "–"


def _body(received, kind: str) -> str:
    return received.get_body(preferencelist=(kind,)).get_content()


def test_a_message_rendered_later_by_the_runner_reads_as_one_rendered_at_once(app, mailbox, make_user):
    person = make_user(name="Amara Okafor")
    for key, later in (("now", False), ("later", True)):
        queue_email(key=key, to="amara@example.org", subject="Hello", template="accounts/emails/verify",
                    person=person, link="http://localhost/x", hours=48, render_later=later,
                    attachments=[Attachment("notes.txt", "text/plain", b"Notes")])
    db.session.commit()

    assert deliver_outbox() == (2, 0)

    now, later = mailbox.messages
    assert "Dear Amara Okafor" in _body(later, "plain")
    assert _body(later, "plain") == _body(now, "plain")
    assert _body(later, "html") == _body(now, "html")
    assert [a.get_content() for a in later.iter_attachments()] == ["Notes"]


def test_a_message_rendered_later_says_what_was_true_when_it_was_queued(app, mailbox, make_user):
    person = make_user(name="Amara Okafor")
    queue_email(key="k1", to="amara@example.org", subject="Hello", template="accounts/emails/verify",
                person=person, link="http://localhost/x", hours=48, render_later=True)
    db.session.commit()
    person.name = "Amara Mensah"
    db.session.commit()

    deliver_outbox()

    [received] = mailbox.messages
    assert "Dear Amara Okafor" in _body(received, "plain")


def test_a_message_that_cannot_be_rendered_fails_and_the_others_still_go(app, mailbox, make_user):
    queue_email(key="broken", to="amara@example.org", subject="Hello", template="accounts/emails/no_such",
                person=make_user(), render_later=True)
    _queue(key="fine")
    db.session.commit()

    assert deliver_outbox() == (1, 0)

    broken = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "broken"))
    assert broken.status == FAILED and "Rendering" in broken.last_error
    assert len(mailbox.messages) == 1
