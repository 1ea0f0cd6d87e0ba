"""`flask check`: what a production server must get right before it serves anyone.

Each problem is one line naming the setting and its fix. Errors (exit status 1) are what would
put people's data or mail at risk or break pages: the development secret key, cookies over plain
HTTP, links in e-mails to an http:// address, mail into the development sink, SQLite, a database
the migrations have not reached, demo accounts with the published password, assets or fonts not
installed. Warnings (exit status 0) are what a deployment may have chosen knowingly: no proxy hops
trusted, request limits counted per process, the invented example addresses.

Nothing secret is printed: not the key, not the database address with its password.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.accounts.identity_providers import ProviderSettingsError, parse_providers
from app.accounts.models import User
from app.demo import DEMO_AGENCIES, DEMO_LOGINS
from app.extensions import db
from app.fonts import FALLBACKS, MAIN, MissingFont
from app.operations.readiness import migrations_directory, release_heads
from config import DEV_SECRET_KEY

ERROR = "error"
WARNING = "warning"
MIN_SECRET_KEY_LENGTH = 32
NEW_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# A mail relay on this machine listens on one of these; unset, MAIL_SERVER and MAIL_PORT point at
# the development mail sink (127.0.0.1:1025), which keeps every message to itself.
SMTP_PORTS = {25, 465, 587}


@dataclass(frozen=True)
class Problem:
    severity: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.severity.upper()}: {self.problem}. Fix: {self.fix}."


def settings_problems(config: Mapping) -> list[Problem]:
    """What is wrong with these settings for a production server."""
    found = []

    def error(problem: str, fix: str) -> None:
        found.append(Problem(ERROR, problem, fix))

    def warning(problem: str, fix: str) -> None:
        found.append(Problem(WARNING, problem, fix))

    if config["ENV_NAME"] != "production":
        error(f"APP_ENV is {config['ENV_NAME']!r}, not production (cookies are not marked secure, no HSTS)",
              "set APP_ENV=production")
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY:
        error("SECRET_KEY is the development value, which anyone can read in config.py",
              f"set SECRET_KEY to a long random value, e.g. the output of {NEW_SECRET_KEY}")
    elif len(key) < MIN_SECRET_KEY_LENGTH:
        error(f"SECRET_KEY has {len(key)} characters; it signs cookies and every e-mailed link",
              f"set at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. the output of {NEW_SECRET_KEY}")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        error("DATABASE_URL is an SQLite file (one machine, one writer at a time)",
              "set DATABASE_URL=postgresql+psycopg://user:password@host/training (PostgreSQL 15)")
    base = urlsplit(config["BASE_URL"])
    if base.scheme != "https" or not base.hostname:
        error(f"BASE_URL is {config['BASE_URL']!r}: links in e-mails and calendars would not use HTTPS",
              "set BASE_URL to the public https:// address, e.g. https://training.example.org")
    elif base.hostname in LOCAL_HOSTS:
        error(f"BASE_URL is {config['BASE_URL']!r}: links in e-mails would point at the server itself",
              "set BASE_URL to the public https:// address")
    if not (config.get("SESSION_COOKIE_SECURE") and config.get("REMEMBER_COOKIE_SECURE")):
        error("SESSION_COOKIE_SECURE is off: sign-in cookies would also travel over plain HTTP",
              "unset SESSION_COOKIE_SECURE (APP_ENV=production turns it on) or set it to on")
    server, port = config.get("MAIL_SERVER") or "", config.get("MAIL_PORT")
    if not server or (server in LOCAL_HOSTS and port not in SMTP_PORTS):
        error(f"mail goes to {server or 'nowhere'} port {port}, the development mail sink (MAIL_SERVER not set?), "
              "and nobody gets it",
              "set MAIL_SERVER and MAIL_PORT (and MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD) to the mail relay")
    elif server not in LOCAL_HOSTS and not (config.get("MAIL_USE_TLS") or config.get("MAIL_USE_SSL")):
        warning(f"mail to {server} is not encrypted: sign-in and evaluation links cross the network in clear",
                "set MAIL_USE_TLS=on (STARTTLS, port 587) or MAIL_USE_SSL=on (port 465)")
    if not config.get("TRUSTED_PROXY_HOPS"):
        warning("TRUSTED_PROXY_HOPS is 0: behind nginx or a load balancer every client looks like the proxy, "
                "so one person's failed sign-ins pause everyone",
                "set TRUSTED_PROXY_HOPS to the number of proxies in front of gunicorn (1 behind one nginx)")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        warning("RATELIMIT_STORAGE_URI is memory://: each gunicorn worker counts request limits on its own",
                "set RATELIMIT_STORAGE_URI=redis://host:6379/0 (with the redis package), or accept looser limits")
    try:
        providers = parse_providers(config.get("OIDC_PROVIDERS") or "[]")
    except ProviderSettingsError as exc:
        error(str(exc), "correct OIDC_PROVIDERS (see “Signing in with Microsoft 365, NHSmail or Google”)")
        providers = {}
    for provider in providers.values():
        if not provider.issuer.startswith("https://"):
            error(f"the sign-in service {provider.name!r} is at {provider.issuer}, not https://",
                  "set its issuer to the provider's https:// address in OIDC_PROVIDERS")
    for setting in ("L_AND_D_EMAIL", "MAIL_DEFAULT_SENDER"):
        if str(config.get(setting) or "").rstrip(">").endswith(".example"):
            warning(f"{setting} is the invented example address, which no one reads",
                    f"set {setting} to the L&D team's own address")
    return found


def installation_problems(static_folder: str | Path) -> list[Problem]:
    """What the release is missing: GOV.UK Frontend's files and the fonts the PDFs draw with."""
    found = []
    if not (Path(static_folder) / "govuk" / "govuk-frontend.min.css").exists():
        found.append(Problem(ERROR, "GOV.UK Frontend is not in app/static/govuk: pages would have no styles",
                             "run make install (or npm ci && python scripts/install_assets.py)"))
    faces = {face for family in (MAIN, *FALLBACKS) for face in (family.regular, family.bold) if face}
    for face in sorted(faces, key=lambda f: str(f.path)):
        try:
            face.check()
        except MissingFont:
            found.append(Problem(ERROR, f"a font the PDFs need is missing ({face.path})",
                                 f"apt-get install {face.package}"))
    return found


def _demo_addresses() -> list[str]:
    return [f"{local}@{DEMO_AGENCIES[agency][2][0]}" for local, _name, agency, _roles, _title in DEMO_LOGINS]


def database_problems(migrations: str | Path) -> list[Problem]:
    """Whether the database answers, is at the migrations' head, and holds no demo accounts."""
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
            heads = release_heads(str(migrations))
            at_head = current == heads
            demo = at_head and connection.scalar(
                select(User.id).where(User.email.in_(_demo_addresses())).limit(1)) is not None
    except SQLAlchemyError as failure:
        reason = str(getattr(failure, "orig", failure)).strip().splitlines()[0]
        return [Problem(ERROR, f"the database cannot be reached ({reason})",
                        "check DATABASE_URL, that PostgreSQL is running, and that this machine may connect")]
    scripts = ScriptDirectory(str(migrations))
    if not current:
        return [Problem(ERROR, "the database has no migration record (empty, or built without the migrations)",
                        "run flask db upgrade (on a database built another way, back it up and ask the developers)")]
    unknown = {revision for revision in current if not _known(scripts, revision)}
    if unknown:
        return [Problem(ERROR, f"the database is at {', '.join(sorted(unknown))}, which this release does not know "
                               "(a newer release migrated it)",
                        "deploy the release that migrated it, or restore the backup taken before that upgrade")]
    if not at_head:
        return [Problem(ERROR, f"the database is at {', '.join(sorted(current))} but this release needs "
                               f"{', '.join(sorted(heads))}",
                        "stop the job runners, back up, then run flask db upgrade")]
    if demo:
        return [Problem(ERROR, "the database holds the demo accounts, whose password is published in the README",
                        "start production from an empty database (flask db upgrade), never from the demo")]
    return []


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Check this server's settings, release and database for production; exit 1 on any error."""
    app = current_app
    problems = [
        *settings_problems(app.config),
        *installation_problems(app.static_folder),
        *database_problems(migrations_directory()),
    ]
    for problem in sorted(problems, key=lambda p: p.severity != ERROR):
        click.echo(problem.line())
    errors = sum(p.severity == ERROR for p in problems)
    warnings = len(problems) - errors
    if errors:
        click.echo(f"{errors} error(s), {warnings} warning(s): fix the errors before this server serves anyone.")
        raise SystemExit(1)
    click.echo(f"Ready for production ({warnings} warning(s)).")
