"""Scheduled work: `flask jobs run` is the one command cron calls.

Each domain registers its jobs with @job. A job holds a lease row while it runs, so two runs
started at once never do the same job together; each job is also written to be idempotent.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.locking import write_intent

log = logging.getLogger(__name__)
LEASE_MINUTES = 30

_registry: dict[str, tuple[int, Callable[[], object]]] = {}


class JobLease(db.Model):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]


def job(name: str, order: int = 50):
    """Register a function as a job run by `flask jobs run`; lower `order` runs first."""

    def decorator(func: Callable[[], object]):
        _registry[name] = (order, func)
        return func

    return decorator


def registered_jobs() -> list[str]:
    return [name for name, _ in sorted(_registry.items(), key=lambda item: (item[1][0], item[0]))]


def _take_lease(name: str) -> str | None:
    if db.session.get(JobLease, name) is None:
        try:
            with db.session.begin_nested():
                db.session.add(JobLease(name=name))
        except IntegrityError:
            pass
        db.session.commit()
    holder = secrets.token_hex(16)
    now = utcnow()
    result = db.session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(JobLease.leased_until.is_(None), JobLease.leased_until < now),
        )
        .values(holder=holder, leased_until=now + timedelta(minutes=LEASE_MINUTES))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return holder if result.rowcount == 1 else None


def _release_lease(name: str, holder: str) -> None:
    db.session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(holder=None, leased_until=None, last_finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_jobs(only: str | None = None) -> dict[str, object]:
    """Run every registered job (or one) that no other runner holds; return their results.

    Jobs run in transactions of their own, so whatever the caller had open is committed first.
    """
    db.session.commit()
    with write_intent():
        return _run_jobs(only)


def _run_jobs(only: str | None) -> dict[str, object]:
    results: dict[str, object] = {}
    for name in registered_jobs():
        if only and name != only:
            continue
        func = _registry[name][1]
        holder = _take_lease(name)
        if holder is None:
            results[name] = "skipped: another run holds it"
            continue
        try:
            results[name] = func()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Job %s failed", name)
            results[name] = "failed"
        finally:
            _release_lease(name, holder)
    return results


jobs_cli = AppGroup("jobs", help="Scheduled work (run by cron every few minutes).")


@jobs_cli.command("run")
@click.option("--only", default=None, help="Run just this job.")
def run_command(only: str | None) -> None:
    """Run the scheduled jobs once."""
    for name, result in run_jobs(only).items():
        click.echo(f"{name}: {result}")


@jobs_cli.command("list")
def list_command() -> None:
    """List the registered jobs in the order they run."""
    for name in registered_jobs():
        click.echo(name)


def init_app(app: Flask) -> None:
    from app.email import deliver_outbox

    app.cli.add_command(jobs_cli)
    # Mail goes last so that what the other jobs queue is sent in the same run.
    job("deliver_outbox", order=1000)(lambda: "%d sent, %d failed" % deliver_outbox())
