"""`flask check`: each way a production can be misconfigured is one readable line with its fix."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import User
from app.extensions import db
from app.fonts import Family, FontFile
from app.operations import checks
from app.operations.checks import ERROR, WARNING, database_problems, installation_problems, settings_problems
from config import DEV_SECRET_KEY
from tests.conftest import DATABASE_URL, make_test_config
from tests.operations.databases import MIGRATIONS, ROOT, flask_db, fresh_database

SECRET = "k3Vq9-not-a-real-key-but-long-enough-for-the-check"
# A production set up as the README says.
READY = {
    "ENV_NAME": "production",
    "SECRET_KEY": SECRET,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://training:pw@db.internal/training",
    "BASE_URL": "https://training.northbridge-scp.test",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "MAIL_SERVER": "smtp.northbridge-scp.test",
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "MAIL_USE_SSL": False,
    "TRUSTED_PROXY_HOPS": 1,
    "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0",
    "L_AND_D_EMAIL": "training@northbridge-scp.test",
    "MAIL_DEFAULT_SENDER": "Safeguarding training <training@northbridge-scp.test>",
}


def test_a_production_set_up_as_the_readme_says_has_no_problems():
    assert settings_problems(READY) == []


@pytest.mark.parametrize("changes, severity, words", [
    ({"ENV_NAME": "development"}, ERROR, "APP_ENV is 'development'"),
    ({"SECRET_KEY": DEV_SECRET_KEY}, ERROR, "SECRET_KEY is the development value"),
    ({"SECRET_KEY": "short-but-random"}, ERROR, "SECRET_KEY has 16 characters"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/training/instance/training.db"}, ERROR, "DATABASE_URL is an SQLite file"),
    ({"BASE_URL": "http://training.northbridge-scp.test"}, ERROR, "would not use HTTPS"),
    ({"BASE_URL": "https://127.0.0.1:8000"}, ERROR, "point at the server itself"),
    ({"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}, ERROR, "SESSION_COOKIE_SECURE is off"),
    ({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1025, "MAIL_USE_TLS": False}, ERROR, "development mail sink"),
    ({"MAIL_USE_TLS": False}, WARNING, "mail to smtp.northbridge-scp.test is not encrypted"),
    ({"TRUSTED_PROXY_HOPS": 0}, WARNING, "TRUSTED_PROXY_HOPS is 0"),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, WARNING, "counts request limits on its own"),
    ({"L_AND_D_EMAIL": "training@northbridge-scp.example"}, WARNING, "L_AND_D_EMAIL is the invented example address"),
])
def test_each_misconfiguration_is_one_line_with_its_fix(changes, severity, words):
    problems = settings_problems({**READY, **changes})
    assert [p.severity for p in problems] == [severity], [p.line() for p in problems]
    line = problems[0].line()
    assert line.startswith(f"{severity.upper()}: ") and words in line and ". Fix: " in line
    assert "\n" not in line and SECRET not in line and ":pw@" not in line


def test_a_local_mail_relay_on_the_smtp_port_is_fine():
    assert settings_problems({**READY, "MAIL_SERVER": "localhost", "MAIL_PORT": 25, "MAIL_USE_TLS": False}) == []


def test_the_release_needs_the_frontend_assets_and_the_pdf_fonts(tmp_path, monkeypatch):
    assert installation_problems(ROOT / "app" / "static") == []
    missing = [p.line() for p in installation_problems(tmp_path)]
    assert missing == ["ERROR: GOV.UK Frontend is not in app/static/govuk: pages would have no styles. "
                       "Fix: run make install (or npm ci && python scripts/install_assets.py)."]
    monkeypatch.setattr(checks, "MAIN", Family("Gone", FontFile(tmp_path / "Gone.ttf", "fonts-gone")))
    assert [p.line() for p in installation_problems(ROOT / "app" / "static")] == [
        f"ERROR: a font the PDFs need is missing ({tmp_path / 'Gone.ttf'}). Fix: apt-get install fonts-gone."]


def test_a_database_built_without_the_migrations_is_an_error(app):
    (problem,) = database_problems(MIGRATIONS)
    assert problem.severity == ERROR and "no migration record" in problem.line() and "flask db upgrade" in problem.line()


def test_an_unreachable_database_is_an_error(smtp_server):
    nowhere = "postgresql+psycopg://training:pw@127.0.0.1:1/training?connect_timeout=2"
    application = create_app(make_test_config(smtp_server.port, SQLALCHEMY_DATABASE_URI=nowhere))
    with application.app_context():
        (problem,) = database_problems(MIGRATIONS)
    assert problem.severity == ERROR and "the database cannot be reached" in problem.line()
    assert ":pw@" not in problem.line()


def _set_revision(url: str, revision: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_the_database_must_be_at_this_releases_head_without_demo_accounts(tmp_path, smtp_server):
    with fresh_database(DATABASE_URL, tmp_path) as url:
        flask_db(url, "upgrade", "235a5c37ee9f")
        application = create_app(make_test_config(smtp_server.port, SQLALCHEMY_DATABASE_URI=url))
        with application.app_context():
            (behind,) = database_problems(MIGRATIONS)
            assert "the database is at 235a5c37ee9f but this release needs" in behind.line()
            assert "run flask db upgrade" in behind.line()

            flask_db(url, "upgrade")
            assert database_problems(MIGRATIONS) == []

            _set_revision(url, "0123456789ab")
            (ahead,) = database_problems(MIGRATIONS)
            assert "at 0123456789ab, which this release does not know" in ahead.line()
            _set_revision(url, next(iter(checks.ScriptDirectory(str(MIGRATIONS)).get_heads())))

            db.session.add(User(name="Adaeze Fairweather", email="admin@northbridge-council.example",
                                job_title="L&D manager", line_manager_name="", line_manager_email=""))
            db.session.commit()
            (demo,) = database_problems(MIGRATIONS)
            assert "holds the demo accounts" in demo.line()
            db.session.remove()
            db.engine.dispose()


def _flask_check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "RATELIMIT_", "SESSION_"))}
    return subprocess.run([sys.executable, "-m", "flask", "check"], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, "FLASK_APP": "wsgi", **env})


def test_flask_check_exits_non_zero_on_errors_and_zero_on_warnings_only(tmp_path):
    with fresh_database(DATABASE_URL, tmp_path) as url:
        flask_db(url, "upgrade")
        production = {"APP_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": url,
                      "BASE_URL": "https://training.northbridge-scp.test", "MAIL_SERVER": "smtp.northbridge-scp.test",
                      "MAIL_PORT": "587", "MAIL_USE_TLS": "on", "TRUSTED_PROXY_HOPS": "1",
                      "L_AND_D_EMAIL": "training@northbridge-scp.test",
                      "MAIL_DEFAULT_SENDER": "Safeguarding training <training@northbridge-scp.test>"}
        done = _flask_check(**production)
        lines = done.stdout.splitlines()
        if url.startswith("sqlite"):
            assert done.returncode == 1, done.stdout + done.stderr
            assert [line for line in lines if line.startswith("ERROR")] == [
                line for line in lines if line.startswith("ERROR: DATABASE_URL is an SQLite file")]
        else:
            assert done.returncode == 0, done.stdout + done.stderr
            assert lines[-1] == "Ready for production (1 warning(s))."
        assert [line for line in lines if line.startswith("WARNING")] == [
            line for line in lines if line.startswith("WARNING: RATELIMIT_STORAGE_URI is memory://")]
        assert SECRET not in done.stdout + done.stderr

        refused = _flask_check(**{**production, "BASE_URL": "http://training.northbridge-scp.test"})
        assert refused.returncode == 1
        assert "ERROR: BASE_URL is 'http://training.northbridge-scp.test'" in refused.stdout
        assert refused.stdout.splitlines()[-1].endswith("fix the errors before this server serves anyone.")

        development_key = {k: v for k, v in production.items() if k != "SECRET_KEY"}
        refused = _flask_check(**development_key, SECRET_KEY=DEV_SECRET_KEY)
        assert refused.returncode != 0
        assert "development SECRET_KEY: set SECRET_KEY to a long random value" in refused.stderr
