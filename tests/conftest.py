"""Shared fixtures: the app on SQLite (or PostgreSQL with TEST_DATABASE_URL), a real SMTP server,
a clock the tests control, and factories for the objects most tests need."""
from __future__ import annotations

import email
import email.policy
import os
import socket
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import g
from sqlalchemy import text

from app import clock, create_app
from app.accounts.models import ACTIVE, Agency, AgencyDomain, RoleGrant, Sector, User
from app.extensions import db
from config import TestConfig
from tests.factories import (  # noqa: F401  (fixtures, used by name)
    make_attendee,
    make_booking,
    make_conference,
    make_course,
    make_level,
    make_session,
    make_venue,
)

TEST_PASSWORD = "correct horse battery"
_TMP = Path(tempfile.mkdtemp(prefix="training-tests-"))
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"


class Mailbox:
    """What a real SMTP server on 127.0.0.1 received, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Requested action aborted: try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    # aiosmtpd 1.4 cannot self-check a server on port 0, so ask the OS for a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        mailbox.port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.clear()
    smtp_server.refuse = False
    yield smtp_server
    smtp_server.refuse = False


def make_test_config(smtp_port: int, **overrides):
    class _Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = DATABASE_URL
        MAIL_SERVER = "127.0.0.1"
        MAIL_PORT = smtp_port
        MAIL_USE_TLS = False

    for key, value in overrides.items():
        setattr(_Config, key, value)
    return _Config


_schema_ready: set[str] = set()


def _reset_database() -> None:
    """Empty every table (the schema is created once per run)."""
    if DATABASE_URL not in _schema_ready:
        db.drop_all()
        db.create_all()
        _schema_ready.add(DATABASE_URL)
        return
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def _fresh_g_per_request() -> None:
    """Start each request with an empty `g`, as a real server does.

    The fixture keeps one app context open for the whole test, and Flask reuses it for every
    request, so without this `g` (and Flask-Login's cached user in it) would carry over from one
    request, or one test client, to the next.
    """
    for name in list(g):
        g.pop(name)


@contextmanager
def running_app(smtp_port: int, **settings):
    """The suite's app on an emptied database, inside its app context (settings override TestConfig's)."""
    application = create_app(make_test_config(smtp_port, **settings))
    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_g_per_request)
    with application.app_context():
        _reset_database()
        yield application
        db.session.remove()
    clock.set_now(None)


@pytest.fixture
def app(smtp_server):
    with running_app(smtp_server.port) as application:
        yield application


@pytest.fixture
def every_figure(app):
    """Show figures for groups of any size (SMALL_GROUP_MINIMUM 1), for tests of the arithmetic
    on a handful of people; the small-numbers rule has its own tests at the default of 5."""
    app.config["SMALL_GROUP_MINIMUM"] = 1


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def set_now():
    """Fix the clock: set_now(datetime(2027, 3, 1, 9, 0)) (naive UTC)."""

    def _set(moment: datetime | None):
        clock.set_now(moment)

    yield _set
    clock.set_now(None)


@pytest.fixture
def make_sector(app):
    def _make(name: str = "Health - acute", position: int = 0) -> Sector:
        sector = db.session.query(Sector).filter_by(name=name).one_or_none()
        if sector is None:
            sector = Sector(name=name, position=position)
            db.session.add(sector)
            db.session.flush()
        return sector

    return _make


@pytest.fixture
def make_agency(app, make_sector):
    counter = {"n": 0}

    def _make(name: str | None = None, sector: str | Sector = "Health - acute",
              domains: tuple[str, ...] = ()) -> Agency:
        counter["n"] += 1
        sector_obj = sector if isinstance(sector, Sector) else make_sector(sector)
        agency = Agency(name=name or f"Agency {counter['n']}", sector=sector_obj)
        agency.domains = [AgencyDomain(domain=d) for d in domains]
        db.session.add(agency)
        db.session.flush()
        return agency

    return _make


@pytest.fixture
def make_user(app, make_agency):
    counter = {"n": 0}

    def _make(name: str | None = None, email: str | None = None, agency: Agency | None = None,
              roles: tuple[str, ...] = (), verified: bool = True, status: str = ACTIVE,
              password: str = TEST_PASSWORD, coordinates: Agency | None = None, **fields) -> User:
        counter["n"] += 1
        agency = agency or make_agency()
        person = User(
            name=name or f"Person {counter['n']}",
            email=(email or f"person{counter['n']}@example.org").lower(),
            job_title=fields.pop("job_title", "Social worker"),
            agency=agency,
            line_manager_name=fields.pop("line_manager_name", "Manager Person"),
            line_manager_email=fields.pop("line_manager_email", f"manager{counter['n']}@example.org"),
            status=status,
            email_verified_at=clock.utcnow() if verified else None,
            **fields,
        )
        person.set_password(password)
        for role in roles:
            person.role_grants.append(
                RoleGrant(role=role, agency=(coordinates or agency) if role == "coordinator" else None)
            )
        db.session.add(person)
        db.session.commit()
        return person

    return _make


@pytest.fixture
def login_as(client):
    """Sign a person in through the real sign-in form."""

    def _login(person: User, password: str = TEST_PASSWORD):
        response = client.post("/sign-in", data={"email": person.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def rate_limits(app):
    """Turn on the per-client request limits (off for the rest of the suite), counting from zero.

    Returns the app's config, so a test can lower a limit: rate_limits["RATELIMIT_SIGN_IN"] = "3/minute".
    """
    from app.extensions import limiter

    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    limiter.reset()
    yield app.config
    limiter.reset()
    limiter.enabled = False


@pytest.fixture
def deliver(app):
    """Run the outbox once, as `flask jobs run` would, and return (sent, failed)."""
    from app.email import deliver_outbox

    def _deliver():
        return deliver_outbox()

    return _deliver
