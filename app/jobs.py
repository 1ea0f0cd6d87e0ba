"""Scheduled work: the job runner.

Each domain registers its jobs with @job, with how often it is due. Two commands run them:
`flask jobs work` is the long-running runner (`make run` starts one; production runs it as a
service), running each job when it is due and stopping cleanly on SIGTERM; `flask jobs run` runs
every job once, for cron. A job holds a lease row while it runs, so any number of runners never run
the same job at once; a runner that dies loses its lease within LEASE_SECONDS. Each job commits
what it did before it reports it, and is written to be idempotent.
"""
from __future__ import annotations

import logging
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import String, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.email import deliver_outbox, report_failed_messages
from app.extensions import db
from app.locking import write_intent

log = logging.getLogger(__name__)
# A runner that stops renewing its lease (it died) loses it this soon.
LEASE_SECONDS = 90
# How often a running job renews its lease when it calls heartbeat().
RENEW_SECONDS = 30
# How often `flask jobs work` looks for due jobs.
TICK_SECONDS = 5


@dataclass(frozen=True)
class Job:
    name: str
    order: int
    every: timedelta
    func: Callable[[], object]


_registry: dict[str, Job] = {}


class JobLease(db.Model):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    # Kept for the metrics (app.operations.metrics): every runner's runs add up here.
    last_succeeded_at: Mapped[datetime | None]
    runs: Mapped[int] = mapped_column(default=0, server_default="0")
    failures: Mapped[int] = mapped_column(default=0, server_default="0")


def job(name: str, order: int = 50, every: timedelta = timedelta(minutes=5)):
    """Register a function as a job, due `every` so often; lower `order` runs first."""

    def decorator(func: Callable[[], object]):
        _registry[name] = Job(name, order, every, func)
        return func

    return decorator


def registered_jobs() -> list[str]:
    return [j.name for j in sorted(_registry.values(), key=lambda j: (j.order, j.name))]


@dataclass
class _Lease:
    name: str
    holder: str
    renewed: float
    stop: threading.Event | None
    # Names this run in its log lines, and in every line logged while it runs (app.operations.logs).
    run_id: str = ""


_current: ContextVar[_Lease | None] = ContextVar("current_job_lease", default=None)


def current_run_id() -> str | None:
    """The id of the job run under way in this thread, or None outside a job."""
    lease = _current.get()
    return lease.run_id if lease is not None else None


def last_seen() -> datetime | None:
    """When a job runner last showed it was alive: finished a job, or took or renewed a lease.

    One statement; a lease runs LEASE_SECONDS past the moment it was taken or renewed.
    """
    finished, leased_until = db.session.execute(
        select(func.max(JobLease.last_finished_at), func.max(JobLease.leased_until))
    ).one()
    renewed = leased_until - timedelta(seconds=LEASE_SECONDS) if leased_until is not None else None
    return max((moment for moment in (finished, renewed) if moment is not None), default=None)


def heartbeat() -> bool:
    """Keep the running job's lease; return False when the job should stop (the runner is stopping).

    A long job (the outbox) calls this between units of work; outside a job it only returns True.
    """
    lease = _current.get()
    if lease is None:
        return True
    if time.monotonic() - lease.renewed > RENEW_SECONDS:
        with write_intent():
            db.session.execute(
                update(JobLease)
                .where(JobLease.name == lease.name, JobLease.holder == lease.holder)
                .values(leased_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        lease.renewed = time.monotonic()
    return lease.stop is None or not lease.stop.is_set()


def _take_lease(name: str, due_only: bool) -> str | None:
    """Take the job's lease if no live runner holds it (and, with due_only, if it is due)."""
    if db.session.get(JobLease, name) is None:
        try:
            with db.session.begin_nested():
                db.session.add(JobLease(name=name))
        except IntegrityError:
            pass
        db.session.commit()
    holder = secrets.token_hex(16)
    now = utcnow()
    conditions = [JobLease.name == name, or_(JobLease.leased_until.is_(None), JobLease.leased_until < now)]
    if due_only:
        conditions.append(or_(JobLease.last_finished_at.is_(None),
                              JobLease.last_finished_at <= now - _registry[name].every))
    result = db.session.execute(
        update(JobLease)
        .where(*conditions)
        .values(holder=holder, leased_until=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return holder if result.rowcount == 1 else None


def _release_lease(name: str, holder: str, failed: bool) -> None:
    """Free the lease and count the run (and its failure, or its success's time)."""
    now = utcnow()
    outcome = {"failures": JobLease.failures + 1} if failed else {"last_succeeded_at": now}
    db.session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(holder=None, leased_until=None, last_finished_at=now, runs=JobLease.runs + 1, **outcome)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _run_one(name: str, *, due_only: bool, stop: threading.Event | None = None) -> object | None:
    """Run one job under its lease; None when another runner holds it (or it is not due).

    Each run logs one line: the job, the run's id, ok or failed, how long it took and the counts it
    reported (a failure with its traceback). A run that found nothing to do logs at DEBUG, since the
    outbox alone runs every few seconds.
    """
    with write_intent():
        holder = _take_lease(name, due_only)
    if holder is None:
        return None
    run_id = secrets.token_hex(8)
    token = _current.set(_Lease(name, holder, time.monotonic(), stop, run_id))
    started = time.monotonic()
    failed = True  # until the job's work is committed (a KeyboardInterrupt too)
    try:
        with write_intent():
            result = _registry[name].func()
            db.session.commit()
        failed = False
    except Exception:
        db.session.rollback()
        log.error("job", exc_info=True, extra={"fields": _run_fields(name, run_id, "failed", started, None)})
        result = "failed"
    else:
        counts = job_counts(result)
        log.log(logging.INFO if any(counts.values()) else logging.DEBUG, "job",
                extra={"fields": _run_fields(name, run_id, "ok", started, counts)})
    finally:
        _current.reset(token)
        with write_intent():
            _release_lease(name, holder, failed)
    return result


def job_counts(result: object) -> dict[str, int]:
    """The counts in what a job reported ("3 sent, 0 failed attempts" -> {"sent": 3, ...}).

    Only numbers and their labels: whatever else a result says is left out of the logs.
    """
    return {label.strip(): int(count) for count, label in _COUNT.findall(str(result))}


_COUNT = re.compile(r"(?:^|, )(\d+) ([a-z0-9 ]+?)(?=, \d|$)")


def _run_fields(name: str, run_id: str, outcome: str, started: float,
                counts: dict[str, int] | None) -> dict[str, object]:
    fields: dict[str, object] = {"job": name, "run_id": run_id, "outcome": outcome,
                                 "duration_ms": round((time.monotonic() - started) * 1000, 1)}
    if counts is not None:
        fields["did"] = counts
    return fields


def run_jobs(only: str | None = None) -> dict[str, object]:
    """Run every registered job (or one) once, whether due or not; return what each did.

    Jobs run in transactions of their own, so whatever the caller had open is committed first.
    """
    db.session.commit()
    results: dict[str, object] = {}
    for name in registered_jobs():
        if only and name != only:
            continue
        result = _run_one(name, due_only=False)
        results[name] = "skipped: another run holds it" if result is None else result
    return results


def work(stop: threading.Event, tick: float = TICK_SECONDS,
         on_result: Callable[[str, object], None] | None = None) -> None:
    """Run each job whenever it is due until `stop` is set; share the work with any other runners."""
    db.session.commit()
    while not stop.is_set():
        for name in registered_jobs():
            if stop.is_set():
                break
            try:
                result = _run_one(name, due_only=True, stop=stop)
            except Exception:
                # The database is away (a restart): roll back, wait a tick, try again.
                log.exception("Job runner could not reach the database")
                db.session.rollback()
                break
            finally:
                db.session.remove()
            if result is not None and on_result is not None:
                on_result(name, result)
        stop.wait(tick)


jobs_cli = AppGroup("jobs", help="Scheduled work: `work` runs continuously, `run` once (for cron).")


@jobs_cli.command("run")
@click.option("--only", default=None, help="Run just this job.")
def run_command(only: str | None) -> None:
    """Run every job once (for cron)."""
    for name, result in run_jobs(only).items():
        click.echo(f"{name}: {result}")


@jobs_cli.command("work")
@click.option("--tick", default=float(TICK_SECONDS), type=float, show_default=True, help="Seconds between looks for due jobs.")
def work_command(tick: float) -> None:
    """Run each job when it is due, until stopped (SIGTERM or Ctrl-C finish the job under way)."""
    stop = threading.Event()

    def _stop(signum, _frame):
        click.echo(f"Job runner: {signal.Signals(signum).name} received, stopping after the job under way.")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo("Job runner started: " + ", ".join(
        f"{name} every {_every_text(_registry[name].every)}" for name in registered_jobs()))
    work(stop, tick, on_result=_echo_unless_idle)
    click.echo("Job runner stopped.")


def _echo_unless_idle(name: str, result: object) -> None:
    """Print what a job did, unless it found nothing to do (every count zero)."""
    counts = re.findall(r"(?:^|, )(\d+)", str(result))  # "3 sent, 0 failed", "0 stage 1, 0 stage 2"
    if not counts or any(int(count) for count in counts):
        click.echo(f"{name}: {result}")


def _every_text(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


@jobs_cli.command("list")
def list_command() -> None:
    """List the registered jobs in the order they run, with how often each is due."""
    leases = {lease.name: lease for lease in db.session.scalars(select(JobLease))}
    for name in registered_jobs():
        last = leases.get(name)
        finished = last.last_finished_at.strftime("%Y-%m-%d %H:%M:%S UTC") if last and last.last_finished_at else "never"
        click.echo(f"{name}: every {_every_text(_registry[name].every)}, last finished {finished}")


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_cli)

    # Mail goes last so that what the other jobs queue is sent in the same run.
    def _deliver() -> str:
        delivery = deliver_outbox(keep_going=heartbeat)
        return f"{delivery.sent} sent, {delivery.failed} failed attempts"

    job("deliver_outbox", order=1000, every=timedelta(seconds=10))(_deliver)
    job("report_failed_mail", order=990, every=timedelta(minutes=15))(
        lambda: f"{report_failed_messages()} failed messages reported")
