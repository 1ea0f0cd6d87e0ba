"""Bookings when the parts around them fail: the database restarted in the middle of a rush, and a
mail server that takes a second a message while a hundred people book."""
from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.bookings.models import ACTIVE_STATES, Booking
from app.email import SENT, OutboxMessage, queue_email
from app.extensions import db
from app.jobs import work
from tests.bookings.test_concurrency import PEOPLE, Browser, _in_parallel, _people, rush  # noqa: F401
from tests.e2e.conftest import live_server  # noqa: F401
from tests.foundation.test_mail_faults import _free_port


def _rush_jobs(live_server, session_id: int, emails: list[str]):
    tokens: dict[str, str] = {}

    def job(email: str):
        browser = Browser(live_server.url)

        def prepare():
            browser.sign_in(email)
            tokens[email] = browser.token(f"/sessions/{session_id}/book")

        def act():
            started = time.monotonic()
            status = browser.request(f"/sessions/{session_id}/book", {"csrf_token": tokens[email]})[0]
            return status, time.monotonic() - started, browser

        return prepare, act

    return [job(email) for email in emails]


def _bookings_match_their_messages(session_id: int) -> list[Booking]:
    """Every booking made has the e-mail that tells the person, and every such e-mail its booking."""
    db.session.commit()
    bookings = db.session.scalars(select(Booking).where(Booking.session_id == session_id)).all()
    keys = set(db.session.scalars(select(OutboxMessage.idempotency_key)))
    told = {int(key.split(":")[1]) for key in keys
            if key.startswith("booking:") and (":confirmed:" in key or ":waiting:" in key or ":awaiting" in key)}
    assert told == {b.id for b in bookings}
    return bookings


@pytest.mark.skipif("TEST_PG_DATA" not in os.environ, reason="restarts the PostgreSQL server of scripts/with_postgres.sh")
def test_postgresql_restarted_during_a_rush_leaves_no_half_made_booking(app, live_server, rush):
    session, _health_pool, _police_pool, agencies = rush
    session.capacity = 30
    session_id = session.id
    db.session.commit()
    emails = [p.email for p in _people(agencies, PEOPLE, "Restart")]
    db.session.remove()

    def restart():
        time.sleep(0.05)  # the bookings are under way
        data = os.environ["TEST_PG_DATA"]
        # The server started here inherits our output: send it to its log, or run() waits for it forever.
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(os.environ["TEST_PG_BIN"], "pg_ctl"),
                        "-D", data, "-l", os.path.join(data, "server.log"), "-m", "fast", "-w", "restart"],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return 0, 0.0, None

    results = _in_parallel(_rush_jobs(live_server, session_id, emails) + [(lambda: None, restart)])[:-1]

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {302, 503}, statuses  # during the restart: "unavailable", never a 500
    # Once it is back: everyone who was turned away books, and every page works.
    retried = [browser for status, _, browser in results if status == 503]
    for browser in retried:
        token = browser.token(f"/sessions/{session_id}/book")
        status, _ = browser.request(f"/sessions/{session_id}/book", {"csrf_token": token})
        assert status == 302
    for _, _, browser in results:
        status, page = browser.request("/my-bookings")
        assert status == 200
    bookings = _bookings_match_their_messages(session_id)
    assert sum(b.status in ACTIVE_STATES for b in bookings) == PEOPLE


class SlowSink:
    """A mail server that takes a second over each message."""

    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(1)
        self.received += 1
        return "250 OK"


def test_a_slow_mail_server_during_a_rush_slows_no_booking(app, live_server, rush):
    session, _health_pool, _police_pool, agencies = rush
    session_id = session.id
    emails = [p.email for p in _people(agencies, PEOPLE, "Slow")]
    sink = SlowSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    for served in (app, live_server.app):
        served.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    # Mail already waiting, so the runner is busy with the slow server while people book.
    for n in range(20):
        queue_email(key=f"earlier-{n}", to=f"earlier{n}@example.org", subject="Earlier",
                    template="accounts/emails/verify", person={"name": "Earlier"}, link="http://x", hours=48)
    db.session.commit()
    stop = threading.Event()

    def runner():
        with app.app_context():
            work(stop, tick=0.1)

    runner_thread = threading.Thread(target=runner)
    runner_thread.start()
    try:
        for _ in range(600):  # the runner has begun on the queue: it is talking to the slow server
            if sink.received:
                break
            time.sleep(0.1)
        assert sink.received >= 1
        results = _in_parallel(_rush_jobs(live_server, session_id, emails))
    finally:
        stop.set()
        runner_thread.join(60)
        controller.stop()
    assert Counter(status for status, _, _ in results) == {302: PEOPLE}, "no booking failed"
    _bookings_match_their_messages(session_id)
    db.session.commit()
    assert db.session.query(OutboxMessage).filter_by(status=SENT).count() >= 1
