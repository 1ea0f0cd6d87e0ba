"""The demo's clock: `flask demo advance` moves it forward in development and nowhere else."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from app import clock, create_app
from config import ProductionConfig
from tests.conftest import make_test_config


def _real_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def clock_file(tmp_path):
    yield tmp_path / "demo_clock.json"
    clock.use_demo_clock(None)


def test_in_development_advance_moves_the_clock_and_runs_the_jobs(app, smtp_server, clock_file):
    development = create_app(make_test_config(smtp_server.port, ENV_NAME="development", DEMO_CLOCK_FILE=str(clock_file)))
    runner = development.test_cli_runner()
    # The test's own app context is open; the command must run in the development app's.
    with development.app_context():
        result = runner.invoke(args=["demo", "advance", "--days", "30"])
        assert result.exit_code == 0, result.output
        assert "30 days ahead" in result.output
        assert "outbox" in result.output or "deliver" in result.output, "the jobs ran"
        assert json.loads(clock_file.read_text()) == {"days": 30}
        assert abs(clock.utcnow() - (_real_now() + timedelta(days=30))) < timedelta(minutes=1)
        assert "Demo clock:</strong> 30 days ahead" in development.test_client().get("/programme").get_data(as_text=True)

        result = runner.invoke(args=["demo", "advance", "--days", "14"])
        assert "44 days ahead" in result.output
        assert abs(clock.utcnow() - (_real_now() + timedelta(days=44))) < timedelta(minutes=1)
        # A test's fixed time still wins.
        clock.set_now(datetime(2027, 3, 1, 9, 0))
        assert clock.utcnow() == datetime(2027, 3, 1, 9, 0)
        clock.set_now(None)

        result = runner.invoke(args=["demo", "advance", "--reset"])
        assert "real time" in result.output and not clock_file.exists()
        assert abs(clock.utcnow() - _real_now()) < timedelta(minutes=1)


def test_production_refuses_to_advance_and_ignores_a_clock_file(app, clock_file):
    clock_file.write_text(json.dumps({"days": 30}))

    class Production(ProductionConfig):
        SECRET_KEY = "a-long-random-production-secret"
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        DEMO_CLOCK_FILE = str(clock_file)

    production = create_app(Production)
    assert abs(clock.utcnow() - _real_now()) < timedelta(minutes=1), "utcnow ignores the file in production"
    with production.app_context():
        assert "Demo clock" not in production.test_client().get("/programme").get_data(as_text=True)
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["demo", "advance", "--days", "30"])
    assert result.exit_code != 0
    assert "only in development" in result.output
    assert json.loads(clock_file.read_text()) == {"days": 30}, "nothing changed"
    assert abs(clock.utcnow() - _real_now()) < timedelta(minutes=1)


def test_the_test_settings_ignore_a_clock_file(app, smtp_server, clock_file):
    clock_file.write_text(json.dumps({"days": 30}))
    create_app(make_test_config(smtp_server.port, DEMO_CLOCK_FILE=str(clock_file)))
    assert abs(clock.utcnow() - _real_now()) < timedelta(minutes=1)
