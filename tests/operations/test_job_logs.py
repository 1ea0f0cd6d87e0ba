"""The job runner's one line per run: the job, the run's id, ok or failed, how long, and counts only."""
from __future__ import annotations

import json
import logging
import re
import socket

from aiosmtpd.controller import Controller

from app import create_app, jobs
from app.email import FAILED, OutboxMessage, queue_email
from app.extensions import db
from app.jobs import Job, run_jobs
from tests.conftest import make_test_config


def test_a_job_that_did_something_logs_its_counts_not_its_recipients(app, mailbox, log_lines, make_user):
    person = make_user(name="Hermione Tolliver-Grant", email="hermione.tg@example.org")
    queue_email(key="hello", to=person.email, subject="Your booking, Hermione",
                template="accounts/emails/verify", person=person, link="http://localhost/x", hours=48)
    db.session.commit()

    assert run_jobs(only="deliver_outbox") == {"deliver_outbox": "1 sent, 0 failed attempts"}
    assert len(mailbox.to(person.email)) == 1

    (line,) = log_lines.pairs("job")
    assert list(line) == ["time", "level", "logger", "run_id", "message", "job", "outcome", "duration_ms", "did"]
    assert line["level"] == "INFO" and line["logger"] == "app.jobs"
    assert line["job"] == "deliver_outbox" and line["outcome"] == "ok"
    assert re.fullmatch(r"[0-9a-f]{16}", line["run_id"])
    assert float(line["duration_ms"]) >= 0
    assert line["did"] == "1 sent, 0 failed attempts"
    # The outbox's own line, logged during the run, carries the run's id.
    (outbox,) = [record for record in log_lines.records() if "Outbox: 1 sent" in record]
    assert f"run_id={line['run_id']}" in outbox
    for secret in ("Hermione", "hermione", "Tolliver", "example.org", "Your booking"):
        assert secret not in log_lines.text, secret


def test_a_failing_job_logs_failed_with_its_traceback(app, log_lines, monkeypatch):
    def broken():
        raise RuntimeError("the job broke")

    original = jobs._registry["reports_discard_stale_imports"]
    monkeypatch.setitem(jobs._registry, original.name, Job(original.name, original.order, original.every, broken))
    assert run_jobs(only=original.name) == {original.name: "failed"}

    (record,) = [record for record in log_lines.records() if "message=job" in record]
    first, traceback = record.split("\n", 1)
    assert "level=ERROR" in first and f"job={original.name}" in first and "outcome=failed" in first
    assert "run_id=" in first and "duration_ms=" in first and "did=" not in first
    assert traceback.startswith("Traceback") and "RuntimeError: the job broke" in traceback


def test_a_run_that_found_nothing_to_do_logs_at_debug(app, log_lines):
    run_jobs(only="reports_discard_stale_imports")
    assert log_lines.pairs("job") == []
    logging.getLogger("app").setLevel(logging.DEBUG)  # the next app built sets LOG_LEVEL again
    run_jobs(only="reports_discard_stale_imports")
    (line,) = log_lines.pairs("job")
    assert line["level"] == "DEBUG" and line["did"] == "0 discarded"


def test_job_lines_in_json(app, smtp_server, log_lines):
    json_app = create_app(make_test_config(smtp_server.port, LOG_FORMAT="json", LOG_LEVEL="DEBUG"))
    with json_app.app_context():
        run_jobs(only="reports_discard_stale_imports")
    (line,) = [json.loads(text) for text in log_lines.text.splitlines() if '"message": "job"' in text]
    assert line["job"] == "reports_discard_stale_imports" and line["outcome"] == "ok"
    assert line["did"] == {"discarded": 0} and line["level"] == "DEBUG"


def test_counts_are_read_from_what_a_job_reports_and_nothing_else():
    assert jobs.job_counts("3 sent, 0 failed attempts") == {"sent": 3, "failed attempts": 0}
    assert jobs.job_counts("0 stage 1, 2 stage 2 reminders") == {"stage 1": 0, "stage 2 reminders": 2}
    assert jobs.job_counts("Could not reach jane@example.org") == {}
    assert jobs.job_counts(None) == {}


class _RefusesQuotingTheAddress:
    """A mail server that refuses every recipient for good, quoting the address as many do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def test_a_recipient_refused_for_good_is_logged_by_code_not_by_address(app, log_lines, make_user):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_RefusesQuotingTheAddress(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
        person = make_user(email="left.the.council@example.org")
        queue_email(key="gone", to=person.email, subject="Hello", template="accounts/emails/verify",
                    person=person, link="http://localhost/x", hours=48)
        db.session.commit()
        assert run_jobs(only="deliver_outbox") == {"deliver_outbox": "0 sent, 1 failed attempts"}
    finally:
        controller.stop()
    message = db.session.query(OutboxMessage).one()
    assert message.status == FAILED and person.email in message.last_error, "administrators still see why"
    (refused,) = [record for record in log_lines.records() if "refused for good" in record]
    assert "SMTP 550" in refused and "level=WARNING" in refused
    assert "left.the.council" not in log_lines.text
