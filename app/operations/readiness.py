"""Is this server ready for requests: the database answers, its schema is this release's, a job runner is alive.

Two statements when all is well: the database's Alembic revisions (which also shows it answers),
then when a job runner was last seen (app.jobs.last_seen). The release's own revisions are read
from migrations/ once per process: they change only with a new release.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.clock import utcnow
from app.extensions import db
from app.jobs import last_seen

DATABASE, MIGRATIONS, JOB_RUNNER = "database", "migrations", "job_runner"
OK, FAILED, NOT_CHECKED = "ok", "failed", "not checked"


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(outcome != FAILED for outcome in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, outcome in self.checks.items() if outcome == FAILED]


@functools.cache
def release_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migrations shipped with this release (read once per process)."""
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def migrations_directory() -> str:
    directory = Path(current_app.extensions["migrate"].directory)
    if not directory.is_absolute():
        # Flask-Migrate's default is relative to where `flask db` runs: the project's root.
        directory = Path(current_app.root_path).parent / directory
    return str(directory)


def database_revisions() -> frozenset[str]:
    """The revisions the database says it is at (raises if it does not answer or has none)."""
    return frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def _answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.invalidate()  # the connection is gone: the pool's next one is tried afresh


def check() -> Readiness:
    """Check the database, its migrations and the job runner; checks that cannot be made are marked so."""
    checks = {DATABASE: NOT_CHECKED, MIGRATIONS: NOT_CHECKED, JOB_RUNNER: NOT_CHECKED}
    try:
        revisions = database_revisions()
    except SQLAlchemyError:
        # Either the database is away, or it answers but was never migrated (no alembic_version).
        _rollback()
        if not _answers():
            _rollback()
            checks[DATABASE] = FAILED
            return Readiness(checks)
        revisions = None
    checks[DATABASE] = OK
    checks[MIGRATIONS] = OK if revisions == release_heads(migrations_directory()) else FAILED

    minutes = current_app.config["READY_JOB_RUNNER_MINUTES"]
    if minutes > 0:
        try:
            seen = last_seen()
        except SQLAlchemyError:
            _rollback()
            seen = None
        checks[JOB_RUNNER] = OK if seen is not None and seen >= utcnow() - timedelta(minutes=minutes) else FAILED
    return Readiness(checks)
