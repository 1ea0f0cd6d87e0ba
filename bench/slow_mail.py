"""`python -m bench.slow_mail`: a booking rush while the mail server is fast, then while it takes a
second over every message, on SQLite through the server `make run` uses (Werkzeug, threaded), with
the job runner sending all the while.

Mail is never sent inside a request, so the two rushes should take the same time; the bench prints
both (median, 95th percentile and slowest request), how many requests failed, and how many
messages the runner delivered while people were booking.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
from datetime import timedelta

from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from bench.rush import PASSWORD, Client, _at_once, _figures, _free_port


class Sink:
    """An SMTP sink that waits `delay` seconds over each message."""

    def __init__(self, delay: float):
        self.delay = delay
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received += 1
        return "250 OK"


def _seed(app, people: int) -> tuple[list[int], list[str]]:
    from werkzeug.security import generate_password_hash

    from app.accounts.models import Agency, Sector, User
    from app.clock import utcnow
    from app.courses.models import PUBLISHED, Course, Session, SessionPart
    from app.extensions import db

    with app.app_context():
        db.create_all()
        sector = Sector(name="Health - acute", position=0)
        agency = Agency(name="St Brigid's Hospital", sector=sector)
        # Two courses: one session of each, so everyone may book both.
        courses = [Course(code=f"L3-{n}", title=f"Safeguarding Level 3 ({n})", requires_manager_approval=False)
                   for n in (1, 2)]
        start = (utcnow() + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)
        sessions = []
        for number in range(2):
            begins = start + timedelta(days=number)
            session = Session(course=courses[number], capacity=people, status=PUBLISHED, starts_at=begins,
                              ends_at=begins + timedelta(hours=6))
            session.parts = [SessionPart(starts_at=begins, ends_at=begins + timedelta(hours=6))]
            sessions.append(session)
        password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
        users = [User(name=f"Rusher {n}", email=f"rusher{n}@bench.example", agency=agency,
                      line_manager_name="Manager", line_manager_email=f"manager{n}@bench.example",
                      password_hash=password_hash, email_verified_at=utcnow()) for n in range(people)]
        db.session.add_all([agency, *courses, *sessions, *users])
        db.session.commit()
        return [s.id for s in sessions], [u.email for u in users]


def _rush(base_url: str, session_id: int, emails: list[str]):
    clients = [Client(base_url) for _ in emails]
    for client, email in zip(clients, emails):
        client.sign_in(email)
        client.token = client.fetch_token(f"/sessions/{session_id}/book")

    def call(client):
        return lambda: client.request(f"/sessions/{session_id}/book", {"csrf_token": client.token})[0]

    return _at_once([call(c) for c in clients])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_mail", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the slow server takes per message")
    parser.add_argument("--waiting", type=int, default=20, help="messages already queued when each rush starts")
    args = parser.parse_args(argv)

    import logging

    from app import create_app
    from app.extensions import db
    from sqlalchemy import delete

    from app.email import queue_email
    from app.jobs import JobLease, work
    from config import Config

    folder = tempfile.mkdtemp(prefix="bench-slow-mail-")
    sinks = {"fast": Sink(0.0), "slow": Sink(args.delay)}
    ports = {name: _free_port() for name in sinks}
    controllers = [Controller(sinks[name], hostname="127.0.0.1", port=ports[name]) for name in sinks]
    for controller in controllers:
        controller.start()

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder}/bench.db"
        SECRET_KEY = os.urandom(32).hex()
        RATELIMIT_ENABLED = False
        MAIL_USE_TLS = False
        LOG_LEVEL = "WARNING"  # the app's line per request and per job run would bury the figures

    app = create_app(BenchConfig)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    session_ids, emails = _seed(app, args.people)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    print(f"Booking rush of {args.people} people on SQLite (threaded Werkzeug server, as `make run`),"
          f" the job runner sending mail throughout")
    try:
        for (name, sink), session_id in zip(sinks.items(), session_ids):
            app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=ports[name])
            with app.app_context():
                # Mail already waiting and the mail job due now, so the runner is talking to this
                # server throughout the rush.
                db.session.execute(delete(JobLease))
                for n in range(args.waiting):
                    queue_email(key=f"{name}-earlier-{n}", to=f"earlier{n}@bench.example", subject="Earlier",
                                template="accounts/emails/verify", person={"name": "Earlier"},
                                link="http://127.0.0.1/x", hours=48)
                db.session.commit()
            stop = threading.Event()

            def runner():
                with app.app_context():
                    work(stop, tick=0.1)
                    db.session.remove()

            thread = threading.Thread(target=runner)
            thread.start()
            before = sink.received
            results, wall = _rush(base_url, session_id, emails)
            during = sink.received - before
            stop.set()
            thread.join(120)
            figures = _figures(results, wall)
            slowest = max(seconds for _, seconds in results) * 1000
            label = "fast mail server" if name == "fast" else f"mail server taking {args.delay:g} s a message"
            print(f"  {label:38} median {figures['median_ms']:7.0f} ms  p95 {figures['p95_ms']:7.0f} ms"
                  f"  slowest {slowest:7.0f} ms  errors {figures['errors']}  mails delivered during the rush {during}")
    finally:
        server.shutdown()
        for controller in controllers:
            controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
