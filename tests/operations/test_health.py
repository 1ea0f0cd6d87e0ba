"""/healthz and /readyz as a load balancer and a deploy script see them, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app import create_app
from app.extensions import db, limiter
from app.jobs import LEASE_SECONDS, JobLease, run_jobs
from app.operations.readiness import migrations_directory
from bench.statements import StatementCounter
from tests.conftest import make_test_config
from tests.security import assert_security_headers
from tests.statements import statements_of_get

NOW = datetime(2027, 3, 1, 9, 0)


def _older_than(head: str) -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", migrations_directory())
    older = ScriptDirectory.from_config(config).get_revision(head).down_revision
    assert isinstance(older, str), "the head has one parent"
    return older


def _runner_ran():
    """A job runner's pass, as `flask jobs run` does it (it marks every job finished)."""
    run_jobs(only="reports_discard_stale_imports")


def test_healthz_answers_without_the_database(app, client):
    db.session.commit()
    with StatementCounter(db.engine) as counter:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert counter.statements == []
    assert "Set-Cookie" not in response.headers
    assert_security_headers(response)


def test_readyz_is_ready_with_the_database_at_head_and_a_runner_seen(app, client, stamp, heads, set_now):
    set_now(NOW)
    stamp(*heads)
    _runner_ran()
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready",
                                   "checks": {"database": "ok", "migrations": "ok", "job_runner": "ok"}}
    assert "Set-Cookie" not in response.headers
    # Cheap enough to poll every few seconds: the revisions, then when a runner was last seen.
    # (SQLite's BEGIN is app.locking's own; PostgreSQL opens its transaction with the first.)
    statements = [s for s in statements_of_get(client, "/readyz") if s != "BEGIN"]
    assert len(statements) == 2, statements
    assert "alembic_version" in statements[0] and "job_leases" in statements[1]


def test_readyz_fails_when_the_database_is_at_an_older_revision(app, client, stamp, heads, set_now):
    set_now(NOW)
    (head,) = heads
    stamp(_older_than(head))
    _runner_ran()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "failed": ["migrations"],
                                   "checks": {"database": "ok", "migrations": "failed", "job_runner": "ok"}}


def test_readyz_fails_on_a_database_never_migrated(app, client, stamp, set_now):
    set_now(NOW)
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()
    _runner_ran()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["migrations"]
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_fails_on_a_fresh_install_until_a_job_runner_is_seen(app, client, stamp, heads, set_now):
    set_now(NOW)
    stamp(*heads)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "failed": ["job_runner"],
                                   "checks": {"database": "ok", "migrations": "ok", "job_runner": "failed"}}

    _runner_ran()
    assert client.get("/readyz").status_code == 200

    # The runner stopped: 15 minutes later (READY_JOB_RUNNER_MINUTES) it is missed.
    set_now(NOW + timedelta(minutes=14))
    assert client.get("/readyz").status_code == 200
    set_now(NOW + timedelta(minutes=16))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failed"] == ["job_runner"]

    # 0 leaves the runner out, for a deployment whose balancer routes on /readyz.
    app.config["READY_JOB_RUNNER_MINUTES"] = 0
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["job_runner"] == "not checked"


def test_a_runner_busy_with_its_first_long_job_counts_as_seen(app, client, stamp, heads, set_now):
    set_now(NOW + timedelta(minutes=30))
    stamp(*heads)
    # Taken an hour ago and renewed a minute ago; it has never finished a job.
    db.session.add(JobLease(name="deliver_outbox", holder="x" * 32,
                            leased_until=NOW + timedelta(minutes=29, seconds=LEASE_SECONDS)))
    db.session.commit()
    assert client.get("/readyz").status_code == 200
    set_now(NOW + timedelta(minutes=45))  # 16 minutes without a renewal: it has died
    assert client.get("/readyz").status_code == 503


def test_health_checks_set_no_cookie_for_a_signed_in_person_and_reveal_nothing(
        app, client, login_as, make_user, stamp, heads):
    person = make_user(name="Ottoline Quarrie", email="ottoline.q@example.org")
    login_as(person)
    stamp(*heads)
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        body = response.get_data(as_text=True)
        assert "Ottoline" not in body and "ottoline" not in body and str(person.id) not in body


def test_health_checks_are_exempt_from_request_limits(app, client, request):
    app.config["RATELIMIT_DEFAULT"] = "2 per minute"
    request.getfixturevalue("rate_limits")  # turns the limits on, with this default for every view
    try:
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 503  # not ready here, but never 429
        statuses = [client.get("/sign-in").status_code for _ in range(3)]
        assert statuses[-1] == 429, "the default limit is on for other pages"
    finally:
        limiter.limit_manager.set_default_limits([])


def test_readyz_refuses_other_methods_and_needs_no_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200
    assert client.post("/readyz").status_code == 405


def test_readyz_names_the_database_when_it_cannot_be_reached(smtp_server):
    # A port nothing listens on: the connection is refused at once, as when the database is down.
    unreachable = create_app(make_test_config(
        smtp_server.port, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:9/none"))
    with unreachable.app_context():
        client = unreachable.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {
            "status": "not ready", "failed": ["database"],
            "checks": {"database": "failed", "migrations": "not checked", "job_runner": "not checked"}}
        assert client.get("/healthz").status_code == 200, "the process still answers"
