"""The outbox against mail servers that fail on purpose: nothing lost, nothing sent twice under two
Message-IDs, and no pass that outlives its timeouts."""
from __future__ import annotations

import email
import email.policy
import socket
import socketserver
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app import clock
from app.email import FAILED, QUEUED, SENT, OutboxMessage, deliver_outbox, queue_email, report_failed_messages
from app.extensions import db
from app.jobs import run_jobs


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps what it stores and can be told how to misbehave."""

    def __init__(self):
        self.stored: list[email.message.EmailMessage] = []
        self.temporary_failures = 0  # answer 451 to this many DATA commands first
        self.drop_after_storing = 0  # store, then drop the connection before the 250, this many times
        self.refused_recipients: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.temporary_failures:
            self.temporary_failures -= 1
            return "451 4.3.0 Try again later"
        self.stored.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        if self.drop_after_storing:
            self.drop_after_storing -= 1
            server.transport.abort()
        return "250 Message accepted for delivery"

    def by_outbox_id(self) -> dict[str, set[str]]:
        """Outbox row -> the Message-IDs its copies carried."""
        found: dict[str, set[str]] = {}
        for message in self.stored:
            found.setdefault(message["X-Outbox-Id"], set()).add(message["Message-ID"])
        return found


@pytest.fixture
def recorder():
    handler = Recorder()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


class _Scripted(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def scripted_server(mode: str):
    """A raw SMTP server on 127.0.0.1 that fails as `mode` says: 'silent' never greets;
    'drop_mid_data' hangs up halfway through the message. Yields its port."""
    release = threading.Event()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            if mode == "silent":
                release.wait(30)
                return
            self.wfile.write(b"220 scripted ESMTP\r\n")
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.wfile.write(b"250 scripted\r\n")
                elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    self.wfile.write(b"250 OK\r\n")
                elif verb == b"DATA":
                    self.wfile.write(b"354 Go ahead\r\n")
                    self.rfile.readline()
                    return  # hang up in the middle of the message
                elif verb == b"QUIT":
                    self.wfile.write(b"221 Bye\r\n")
                    return

    server = _Scripted(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def _point_at(app, port: int, timeout: int = 1) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=timeout)


def _queue(n: int, refused: str | None = None) -> None:
    for i in range(n):
        to = refused if refused and i == 0 else f"person{i}@example.org"
        queue_email(key=f"fault-{i}", to=to, subject=f"Message {i}", template="accounts/emails/verify",
                    person={"name": f"Person {i}"}, link="http://localhost/x", hours=48)
    db.session.commit()


def _deliver_within(app, seconds: float):
    """Run one pass in a thread; fail if it has not ended after `seconds` (it would hang forever)."""
    result = {}

    def run():
        with app.app_context():
            result["delivery"] = deliver_outbox()
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the delivery pass hung"
    db.session.commit()  # end this test's own read, to see what the pass wrote
    return result["delivery"]


def _statuses() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def _later(minutes: int) -> None:
    clock.set_now(clock.utcnow() + timedelta(minutes=minutes))


def _all_delivered_once(recorder: Recorder, count: int) -> None:
    copies = recorder.by_outbox_id()
    assert len(copies) == count, "every message arrived"
    assert all(len(ids) == 1 for ids in copies.values()), "every copy of a message has one Message-ID"
    assert _statuses() == [SENT] * count


def test_a_server_that_refuses_connections_costs_one_attempt_and_loses_nothing(app, recorder):
    _queue(5)
    _point_at(app, _free_port())
    assert _deliver_within(app, 20) == (0, 1)
    attempts = list(db.session.scalars(select(OutboxMessage.attempts).order_by(OutboxMessage.id)))
    assert attempts == [1, 0, 0, 0, 0], "only the message that found the server down paid an attempt"
    assert _statuses() == [QUEUED] * 5

    _point_at(app, recorder.port)
    _later(3)
    assert _deliver_within(app, 20) == (5, 0)
    _all_delivered_once(recorder, 5)


def test_a_server_that_never_greets_ends_the_pass_within_its_timeout(app, recorder):
    _queue(3)
    with scripted_server("silent") as port:
        _point_at(app, port, timeout=1)
        delivery = _deliver_within(app, 15)
    assert delivery == (0, 1)
    message = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
    assert "timed out" in message.last_error.lower()
    assert all(m.claim_token is None for m in db.session.scalars(select(OutboxMessage))), "no claim left held"

    _point_at(app, recorder.port)
    _later(3)
    _deliver_within(app, 20)
    _all_delivered_once(recorder, 3)


def test_a_connection_dropped_mid_message_is_retried_on_a_new_connection(app, recorder):
    _queue(4)
    with scripted_server("drop_mid_data") as port:
        _point_at(app, port)
        delivery = _deliver_within(app, 20)
    # Each message got its own fresh connection after the one before it dropped: one attempt each.
    assert delivery == (0, 4)
    assert [m.attempts for m in db.session.scalars(select(OutboxMessage))] == [1, 1, 1, 1]

    _point_at(app, recorder.port)
    _later(3)
    assert _deliver_within(app, 20) == (4, 0)
    _all_delivered_once(recorder, 4)


def test_a_message_stored_before_the_connection_dropped_is_resent_with_the_same_message_id(app, recorder):
    _queue(3)
    _point_at(app, recorder.port)
    recorder.drop_after_storing = 1
    delivery = _deliver_within(app, 20)
    assert delivery == (2, 1), "the others went on a new connection"
    _later(3)
    _deliver_within(app, 20)
    copies = recorder.by_outbox_id()
    assert len(recorder.stored) == 4, "the server holds the dropped message twice"
    assert all(len(ids) == 1 for ids in copies.values()), "both copies share one Message-ID"
    assert _statuses() == [SENT] * 3


def test_temporary_refusals_are_retried_until_the_server_recovers(app, recorder):
    _queue(3)
    _point_at(app, recorder.port)
    recorder.temporary_failures = 2
    assert _deliver_within(app, 20) == (1, 2)
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.status for r in rows] == [QUEUED, QUEUED, SENT]
    assert "451" in rows[0].last_error
    _later(3)
    assert _deliver_within(app, 20) == (2, 0)
    _all_delivered_once(recorder, 3)


def test_a_recipient_refused_for_good_fails_at_once_and_the_l_and_d_team_is_told_once(app, recorder):
    _queue(3, refused="gone@example.org")
    recorder.refused_recipients = {"gone@example.org"}
    _point_at(app, recorder.port)
    assert _deliver_within(app, 20) == (2, 1)
    refused = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "gone@example.org"))
    assert refused.status == FAILED
    assert "550" in refused.last_error and "No such mailbox" in refused.last_error

    assert report_failed_messages() == 1
    db.session.commit()
    assert report_failed_messages() == 0, "told once"
    _deliver_within(app, 20)
    [notice] = [m for m in recorder.stored if m["To"] == app.config["L_AND_D_EMAIL"]]
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "gone@example.org" in body and "550" in body
    assert "/admin/outbox?status=failed" in body


def test_an_administrator_retries_every_failed_message_at_once(app, recorder, make_user, login_as):
    _queue(3)
    _point_at(app, recorder.port)
    for message in db.session.scalars(select(OutboxMessage)):
        message.status = FAILED
    db.session.commit()
    client = login_as(make_user(roles=("admin",)))
    page = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Try all failed messages again" in page
    response = client.post("/admin/outbox/retry-failed", follow_redirects=True)
    assert "3 failed messages will be sent again" in response.get_data(as_text=True)
    assert _deliver_within(app, 20) == (3, 0)
    _all_delivered_once(recorder, 3)


def test_a_pass_drains_more_than_one_batch(app, recorder):
    _queue(130)
    _point_at(app, recorder.port)
    assert _deliver_within(app, 60) == (130, 0)
    _all_delivered_once(recorder, 130)


def test_two_passes_at_once_deliver_each_of_1000_messages_exactly_once(app, recorder):
    _queue(1000)
    _point_at(app, recorder.port, timeout=30)
    results = []

    def run():
        with app.app_context():
            results.append(deliver_outbox())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    db.session.commit()
    assert sum(r.sent for r in results) == 1000
    assert all(r.sent > 0 for r in results), "both runners took a share"
    copies = recorder.by_outbox_id()
    assert len(recorder.stored) == 1000 and len(copies) == 1000
    assert _statuses() == [SENT] * 1000


def test_the_job_run_reports_what_it_committed(app, recorder):
    _queue(2)
    _point_at(app, recorder.port)
    results = run_jobs()
    assert results["deliver_outbox"] == "2 sent, 0 failed attempts"
    assert _statuses() == [SENT, SENT]
