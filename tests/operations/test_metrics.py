"""Prometheus metrics at /metrics: who may scrape them, and that each figure moves when the thing it
counts happens (requests, bookings made and refused, the outbox, the jobs, the database pool)."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from app import create_app
from app import jobs as job_runner
from app.bookings.booking import book_place
from app.bookings.models import Booking
from app.email import FAILED, QUEUED, SENT, OutboxMessage
from app.extensions import db
from tests.conftest import make_test_config, running_app

TOKEN = "a-long-random-scrape-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2027, 3, 1, 9, 0)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(smtp_server):
    """The suite's app with the metrics on and a token (overrides conftest's `app`)."""
    with running_app(smtp_server.port, METRICS_ENABLED=True, METRICS_TOKEN=TOKEN) as application:
        yield application


def scrape(client) -> dict[tuple, float]:
    """Every sample of /metrics, parsed by prometheus_client's own parser: {(name, labels): value}."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# ---------------------------------------------------------------- who may scrape


def test_metrics_are_off_unless_turned_on(smtp_server):
    off = create_app(make_test_config(smtp_server.port))
    assert "metrics" not in off.view_functions
    assert off.test_client().get("/metrics", headers=AUTH).status_code == 404


def test_a_scrape_needs_the_token_and_sets_no_cookie(app, client):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401, "the scheme is needed"
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    right = client.get("/metrics", headers=AUTH)
    assert right.status_code == 200
    assert "Set-Cookie" not in right.headers
    assert client.post("/metrics", headers=AUTH).status_code == 405


def test_production_serves_nothing_without_a_token(smtp_server):
    config = make_test_config(smtp_server.port, METRICS_ENABLED=True, METRICS_TOKEN="", ENV_NAME="production")
    production = create_app(config)
    assert production.test_client().get("/metrics").status_code == 404


def test_only_the_allowed_networks_may_scrape(smtp_server):
    def status(allow_from: str) -> int:
        config = make_test_config(smtp_server.port, METRICS_ENABLED=True, METRICS_TOKEN=TOKEN,
                                  METRICS_ALLOW_FROM=allow_from)
        client = create_app(config).test_client()  # the test client comes from 127.0.0.1
        return client.get("/metrics", headers=AUTH).status_code

    assert status("10.0.0.0/8, 192.168.0.0/16") == 404
    assert status("10.0.0.0/8, 127.0.0.0/8") != 404
    with pytest.raises(RuntimeError, match="METRICS_ALLOW_FROM"):
        status("10.0.0.0/8, the office")


# ---------------------------------------------------------------- the output


def test_the_output_parses_and_names_follow_the_conventions(app, client):
    client.get("/programme")
    response = client.get("/metrics", headers=AUTH)
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    ours = {name: f for name, f in families.items() if name.startswith("training_")}
    expected = {
        "training_http_requests": "counter", "training_http_request_duration_seconds": "histogram",
        "training_bookings": "counter", "training_booking_refusals": "counter",
        "training_db_pool_checked_out_connections": "gauge", "training_db_pool_size_connections": "gauge",
        "training_db_pool_overflow_connections": "gauge", "training_metrics_database_up": "gauge",
        "training_outbox_messages": "gauge", "training_outbox_oldest_queued_age_seconds": "gauge",
        "training_job_runs": "counter", "training_job_failures": "counter",
        "training_job_last_success_timestamp_seconds": "gauge",
    }
    assert {name: f.type for name, f in ours.items()} == expected
    for family in ours.values():
        for sample in family.samples:
            if family.type == "counter" and not sample.name.endswith("_created"):
                assert sample.name.endswith("_total"), sample.name
    # The same figures in OpenMetrics for a scraper that asks for it.
    open_metrics = client.get("/metrics", headers={**AUTH, "Accept": "application/openmetrics-text"})
    assert open_metrics.content_type.startswith("application/openmetrics-text")
    assert "training_job_runs" in {f.name for f in openmetrics_families(open_metrics.get_data(as_text=True))}


def test_requests_are_counted_by_url_rule_never_by_path(app, client):
    before = scrape(client)
    assert client.get("/programme").status_code == 200
    assert client.get("/sessions/987654").status_code == 404
    assert client.get("/no-such-page-4242").status_code == 404
    after = scrape(client)
    rule = "/sessions/<int:session_id>"
    assert rule in {dict(labels).get("endpoint") for _name, labels in after}
    for endpoint, status in (("/programme", "200"), (rule, "404"), ("unmatched", "404")):
        labels = dict(endpoint=endpoint, method="GET", status=status)
        assert value(after, "training_http_requests_total", **labels) == \
            value(before, "training_http_requests_total", **labels) + 1, endpoint
    count = "training_http_request_duration_seconds_count"
    assert value(after, count, endpoint="/programme", method="GET") == \
        value(before, count, endpoint="/programme", method="GET") + 1
    text = client.get("/metrics", headers=AUTH).get_data(as_text=True)
    assert "987654" not in text and "4242" not in text


# ---------------------------------------------------------------- bookings


def test_bookings_made_and_refused_are_counted_by_outcome_and_reason(
        app, client, login_as, set_now, make_user, make_course, make_session):
    set_now(NOW)
    full = make_session(capacity=1)
    agreed = make_session(course=make_course(requires_manager_approval=True))
    not_yet_open = make_session(booking_opens_at=NOW + timedelta(days=3))
    first, second = make_user(), make_user()
    before = scrape(client)

    login_as(first)
    assert client.post(f"/sessions/{full.id}/book", data={}).status_code == 302
    assert client.post(f"/sessions/{agreed.id}/book", data={}).status_code == 302
    assert client.post(f"/sessions/{not_yet_open.id}/book", data={}).status_code == 302
    assert client.post(f"/sessions/{full.id}/book", data={}).status_code == 302  # again: refused
    client.post("/sign-out")
    login_as(second)
    assert client.post(f"/sessions/{full.id}/book", data={}).status_code == 302

    after = scrape(client)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 3

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("training_bookings_total", outcome="confirmed") == 1
    assert moved("training_bookings_total", outcome="awaiting_manager") == 1
    assert moved("training_bookings_total", outcome="waiting_list") == 1
    assert moved("training_booking_refusals_total", reason="within_booking_window") == 1
    assert moved("training_booking_refusals_total", reason="not_booked_here") == 1


def test_a_booking_rolled_back_is_not_counted(app, client, set_now, make_user, make_session):
    set_now(NOW)
    session, person = make_session(), make_user()
    before = value(scrape(client), "training_bookings_total", outcome="confirmed")
    book_place(session, person, person)
    db.session.rollback()
    assert value(scrape(client), "training_bookings_total", outcome="confirmed") == before
    book_place(session, person, person)
    db.session.commit()
    assert value(scrape(client), "training_bookings_total", outcome="confirmed") == before + 1


# ---------------------------------------------------------------- read from the database


def _message(key: str, status: str, created_at: datetime) -> OutboxMessage:
    return OutboxMessage(idempotency_key=key, recipient="someone@example.org", subject="Hello",
                         text_body="Hello", status=status, created_at=created_at)


def test_the_outbox_gauges_match_its_rows(app, client, set_now):
    set_now(NOW)
    samples = scrape(client)
    assert value(samples, "training_outbox_oldest_queued_age_seconds") == 0
    assert value(samples, "training_metrics_database_up") == 1
    db.session.add_all([
        _message("q1", QUEUED, NOW - timedelta(minutes=5)),
        _message("q2", QUEUED, NOW - timedelta(hours=2, seconds=3)),
        _message("q3", QUEUED, NOW),
        _message("s1", SENT, NOW - timedelta(days=3)),
        _message("f1", FAILED, NOW - timedelta(days=9)),
        _message("f2", FAILED, NOW - timedelta(days=1)),
    ])
    db.session.commit()
    samples = scrape(client)
    rows = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    assert rows == {QUEUED: 3, SENT: 1, FAILED: 2}
    for status, count in rows.items():
        assert value(samples, "training_outbox_messages", status=status) == count
    assert value(samples, "training_outbox_oldest_queued_age_seconds") == 2 * 3600 + 3


def test_job_runs_failures_and_last_success_are_counted(app, client, set_now, monkeypatch):
    set_now(NOW)

    def broken():
        raise ValueError("the job's own bug")

    monkeypatch.setitem(job_runner._registry, "metrics_test_broken",
                        job_runner.Job("metrics_test_broken", 1, timedelta(minutes=5), broken))
    monkeypatch.setitem(job_runner._registry, "metrics_test_working",
                        job_runner.Job("metrics_test_working", 2, timedelta(minutes=5), lambda: "done"))
    samples = scrape(client)
    assert value(samples, "training_job_runs_total", job="metrics_test_broken") == 0
    assert ("training_job_last_success_timestamp_seconds", (("job", "metrics_test_working"),)) not in samples

    assert job_runner.run_jobs("metrics_test_broken") == {"metrics_test_broken": "failed"}
    assert job_runner.run_jobs("metrics_test_broken") == {"metrics_test_broken": "failed"}
    set_now(NOW + timedelta(minutes=1))
    assert job_runner.run_jobs("metrics_test_working") == {"metrics_test_working": "done"}
    samples = scrape(client)
    assert value(samples, "training_job_runs_total", job="metrics_test_broken") == 2
    assert value(samples, "training_job_failures_total", job="metrics_test_broken") == 2
    assert ("training_job_last_success_timestamp_seconds", (("job", "metrics_test_broken"),)) not in samples
    assert value(samples, "training_job_runs_total", job="metrics_test_working") == 1
    assert value(samples, "training_job_failures_total", job="metrics_test_working") == 0
    assert value(samples, "training_job_last_success_timestamp_seconds", job="metrics_test_working") == \
        (NOW + timedelta(minutes=1) - datetime(1970, 1, 1)).total_seconds()


def test_the_pool_gauge_counts_connections_in_use(app, client):
    def in_use() -> float:
        # The test's app context outlives each request: give back the connection the last one kept.
        db.session.close()
        return value(scrape(client), "training_db_pool_checked_out_connections")

    idle = in_use()
    with db.engine.connect(), db.engine.connect():
        assert in_use() == idle + 2
    assert in_use() == idle
    size = db.engine.pool.size()
    assert value(scrape(client), "training_db_pool_size_connections") >= size
    with ExitStack() as held:
        for _ in range(size + 1):
            held.enter_context(db.engine.connect())
        db.session.close()
        assert value(scrape(client), "training_db_pool_overflow_connections") == 1
    db.session.close()
    assert value(scrape(client), "training_db_pool_overflow_connections") == 0


# ---------------------------------------------------------------- several gunicorn workers


WORKER = """
import os, sys
from app import create_app
from app.extensions import db
from config import TestConfig

class Worker(TestConfig):
    SQLALCHEMY_DATABASE_URI = os.environ["WORKER_DATABASE_URL"]
    METRICS_ENABLED = True
    METRICS_TOKEN = "t"

app = create_app(Worker)
client = app.test_client()
with app.app_context():
    db.create_all()
for _ in range(int(sys.argv[1])):
    assert client.get("/programme").status_code == 200
if len(sys.argv) > 2:
    sys.stdout.write(client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
"""


def test_several_workers_add_up_in_multiprocess_mode(tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory),
           "WORKER_DATABASE_URL": f"sqlite:///{tmp_path / 'workers.db'}"}

    def worker(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", WORKER, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    worker("2")
    text = worker("3", "scrape")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("training_http_requests_total",
                    (("endpoint", "/programme"), ("method", "GET"), ("status", "200")))] == 5
    assert ("training_outbox_messages", (("status", "queued"),)) in samples, "the database's figures too"
