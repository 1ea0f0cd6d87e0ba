"""The job runner: one pass for cron, a long-running runner that stops cleanly, leases that a dead
runner loses, and jobs that keep every row they report."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import url_for
from sqlalchemy import func, select

from app import clock, create_app
from app.bookings.history import change_status, set_outcome
from app.bookings.models import ATTENDED, CONFIRMED, HOLDS_PLACE, WAITING, Booking
from app.courses.models import PUBLISHED, Course, Session, SessionPart
from app.email import SENT, OutboxMessage, queue_email
from app.evaluation.models import Invitation
from app.extensions import db
from app.jobs import LEASE_SECONDS, JobLease, run_jobs, work
from app.urls import external_url
from config import Config
from tests.conftest import DATABASE_URL

T0 = datetime(2027, 3, 1, 9, 0)
ROOT = Path(__file__).resolve().parents[2]


def test_links_built_outside_a_request_run_no_request_teardown(app):
    calls = []
    app.teardown_request(lambda exc: calls.append(exc))
    link = external_url("accounts.reset_password", token="abc")
    assert link == "http://localhost/reset-password/abc" or link.startswith("http://localhost/")
    with app.test_request_context():
        assert link == "http://localhost" + url_for("accounts.reset_password", token="abc")
    calls.clear()
    external_url("main.index")
    assert calls == [], "a job's transaction must not be rolled back or its mail sent mid-job"


def _session(course: Course, starts_at: datetime, capacity: int) -> Session:
    session = Session(course=course, capacity=capacity, status=PUBLISHED)
    session.parts.append(SessionPart(starts_at=starts_at, ends_at=starts_at + timedelta(hours=7)))
    session.starts_at, session.ends_at = starts_at, starts_at + timedelta(hours=7)
    db.session.add(session)
    db.session.flush()
    return session


def _book(session: Session, person, status: str = CONFIRMED, outcome: str | None = None) -> Booking:
    booking = Booking(session_id=session.id, user_id=person.id, agency_id=person.agency_id)
    db.session.add(booking)
    change_status(booking, status, None, "test")
    if status == CONFIRMED:
        booking.confirmed_at = clock.utcnow()
    else:
        booking.waiting_since = clock.utcnow()
    if outcome:
        set_outcome(booking, outcome, None, "test register")
    db.session.flush()
    return booking


def _count(line_name: str, output: str) -> int:
    line = re.search(rf"^{line_name}: (.*)$", output, re.M).group(1)
    return sum(int(n) for n in re.findall(r"(\d+) (?:promoted|reminders|stage 1)", line))


def test_one_pass_in_the_development_configuration_keeps_everything_it_reports(app, mailbox, make_user, set_now):
    set_now(T0)
    people = [make_user() for _ in range(8)]
    evaluated = _session(Course(code="EV1", title="Serious Case Review workshop"), T0 - timedelta(days=1), 20)
    for person in people[:3]:
        _book(evaluated, person, outcome=ATTENDED)
    reminded = _session(Course(code="RM1", title="Domestic abuse"), T0 + timedelta(days=10), 20)
    for person in people[:3]:
        _book(reminded, person)
    full = _session(Course(code="PR1", title="Child sexual exploitation"), T0 + timedelta(days=30), 2)
    for person in people[3:5]:
        _book(full, person)
    for person in people[5:8]:
        _book(full, person, status=WAITING)
    full.capacity = 5
    db.session.commit()
    set_now(T0 + timedelta(days=4))  # the 7-day reminders are due; the evaluation is due

    class Development(Config):
        SQLALCHEMY_DATABASE_URI = DATABASE_URL
        MAIL_SERVER, MAIL_PORT = "127.0.0.1", mailbox.port
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    development = create_app(Development)
    assert development.config["ENV_NAME"] == "development"
    result = development.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output

    db.session.commit()
    promoted = _count("release_reservations", result.output) + _count("promote_from_waiting_lists", result.output)
    assert promoted == 3, result.output
    assert db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.session_id == full.id, Booking.status.in_(HOLDS_PLACE))) == 5
    reminders = _count("send_booking_reminders", result.output)
    assert reminders == 3
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.idempotency_key.like("%remind%"))) == 3
    evaluations = _count("evaluation", result.output)
    assert evaluations == 3
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 3
    # Everything queued went out in the same pass, each message once.
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert outbox and {m.status for m in outbox} == {SENT}
    assert f"deliver_outbox: {len(outbox)} sent, 0 failed attempts" in result.output
    assert len(mailbox.messages) == len(outbox)
    assert any("A place has come up" in m["Subject"] for m in mailbox.messages)


def test_a_dead_runners_lease_is_taken_over_within_two_minutes(app, set_now):
    set_now(T0)
    db.session.add(JobLease(name="reports_discard_stale_imports", holder="dead-runner",
                            leased_until=T0 + timedelta(seconds=LEASE_SECONDS)))
    db.session.commit()
    assert run_jobs("reports_discard_stale_imports") == {
        "reports_discard_stale_imports": "skipped: another run holds it"}
    set_now(T0 + timedelta(minutes=2))
    assert run_jobs("reports_discard_stale_imports") == {"reports_discard_stale_imports": "0 discarded"}


def test_the_runner_runs_due_jobs_and_stops_when_asked(app, mailbox):
    queue_email(key="runner-1", to="amara@example.org", subject="Hello", template="accounts/emails/verify",
                person={"name": "Amara"}, link="http://localhost/x", hours=48)
    db.session.commit()
    stop = threading.Event()
    seen: list[str] = []

    def run():
        with app.app_context():
            work(stop, tick=0.05, on_result=lambda name, result: seen.append(name))

    thread = threading.Thread(target=run)
    thread.start()
    for _ in range(400):
        if len(mailbox.messages) == 1:
            break
        time.sleep(0.05)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert len(mailbox.messages) == 1
    first_pass = seen.count("deliver_outbox")
    assert first_pass >= 1
    # Once run, a job waits for its interval: the mail job (every 10 s) did not run on every tick.
    assert first_pass <= 2
    db.session.commit()
    assert all(lease.holder is None for lease in db.session.scalars(select(JobLease))), "every lease released"


def test_flask_jobs_work_is_a_process_that_stops_cleanly_on_sigterm(tmp_path, smtp_server):
    if DATABASE_URL.startswith("postgresql"):
        database = DATABASE_URL  # the suite's database: the schema is there already
    else:
        database = f"sqlite:///{tmp_path / 'runner.db'}"
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": database, "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(smtp_server.port), "PYTHONUNBUFFERED": "1"}
    flask = [sys.executable, "-m", "flask"]
    if not DATABASE_URL.startswith("postgresql"):
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen([*flask, "jobs", "work", "--tick", "0.2"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Job runner started"):
                break
        assert lines and lines[-1].startswith("Job runner started"), lines
        time.sleep(1)  # a few ticks: the runner is in its loop, or in a job
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "SIGTERM received" in output and output.rstrip().endswith("Job runner stopped.")
