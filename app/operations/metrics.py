"""Prometheus metrics at /metrics, for the people who run the service.

Three kinds, each counted where it happens:

- requests, in this process: by endpoint (the URL rule, never the raw path), method and status,
  with a latency histogram;
- bookings made (after their commit) and refused by reason, from `book_place`, which every
  booking passes through (`app.bookings.booking.on_booking_outcome`); database pool use from the
  SQLAlchemy pool's own events;
- the outbox and the jobs, read from the database when scraped (`DatabaseCollector`: two
  aggregate statements), so every server reports the same figures, whichever runner did the work,
  and a job run from cron is counted like one run by `flask jobs work`.

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at each
start) for gunicorn: prometheus_client then keeps each worker's figures in files there, and a
scrape adds up all the workers' (README, "Metrics and alerts", has the gunicorn hook that tidies
up after a worker). Without it the figures are this process's own.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from datetime import datetime

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from app.bookings.booking import on_booking_outcome
from app.bookings.errors import BookingError
from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, WAITING
from app.clock import utcnow
from app.email import FAILED, QUEUED, SENT, OutboxMessage
from app.extensions import csrf, db, limiter
from app.jobs import JobLease, registered_jobs

log = logging.getLogger(__name__)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Methods a client may send are unbounded text: anything else is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A booking's status as the metric names it.
BOOKING_OUTCOMES = {CONFIRMED: "confirmed", WAITING: "waiting_list", AWAITING_APPROVAL: "awaiting_manager"}
_PENDING = "metrics_bookings_made"  # the key in the session's info of bookings not yet committed

# No `_created` series beside each counter: multiprocess mode has none, so neither mode does.
disable_created_metrics()

REQUESTS = Counter(
    "training_http_requests_total", "HTTP requests answered, by URL rule, method and status.",
    ["endpoint", "method", "status"])
LATENCY = Histogram(
    "training_http_request_duration_seconds",
    "Time to produce a response (a streamed download: until it starts), by URL rule and method.",
    ["endpoint", "method"])
BOOKINGS = Counter(
    "training_bookings_total", "Bookings made, by what the person got (confirmed, waiting_list, awaiting_manager).",
    ["outcome"])
REFUSALS = Counter(
    "training_booking_refusals_total", "Bookings refused, by the rule that refused them.", ["reason"])
# Summed over the live processes: each worker's pool is its own.
POOL_CHECKED_OUT = Gauge(
    "training_db_pool_checked_out_connections", "Database connections in use (all live processes).",
    multiprocess_mode="livesum")
POOL_SIZE = Gauge(
    "training_db_pool_size_connections", "Database connections the pools keep (all live processes).",
    multiprocess_mode="livesum")
POOL_OVERFLOW = Gauge(
    "training_db_pool_overflow_connections",
    "Connections in use beyond the pools' size, the overflow (all live processes).",
    multiprocess_mode="livesum")


# ---------------------------------------------------------------- bookings


def _booking_outcome(status: str | None, refusal: BookingError | None) -> None:
    """Count a refusal now; a booking once its transaction commits (a later refusal undoes it)."""
    if refusal is not None:
        REFUSALS.labels(refusal.kind).inc()
    elif status in BOOKING_OUTCOMES:
        db.session.info.setdefault(_PENDING, []).append(BOOKING_OUTCOMES[status])


def _count_committed(session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the booking is not yet kept
        return
    for outcome in session.info.pop(_PENDING, ()):
        BOOKINGS.labels(outcome).inc()


def _forget_uncommitted(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- requests


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _record_request(response: Response) -> Response:
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
    return response


# ---------------------------------------------------------------- the database pool


def _watch_pool(app: Flask) -> None:
    """Keep the pool gauges up to date from the pool's checkout and checkin events."""
    with app.app_context():
        pool = db.engine.pool
    if not isinstance(pool, QueuePool):  # SQLite in memory: one connection, nothing to watch
        return
    POOL_SIZE.inc(pool.size())

    def _in_use(count: int) -> None:
        POOL_CHECKED_OUT.set(count)
        POOL_OVERFLOW.set(max(count - pool.size(), 0))

    def _checked_out(_dbapi, _record, _proxy) -> None:
        _in_use(pool.checkedout())

    def _checked_in(_dbapi, _record) -> None:
        # Told before the connection is back in the pool, which still counts it as out.
        _in_use(max(pool.checkedout() - 1, 0))

    event.listen(pool, "checkout", _checked_out)
    event.listen(pool, "checkin", _checked_in)


# ---------------------------------------------------------------- read when scraped


class DatabaseCollector:
    """The outbox and the jobs, as the database holds them now."""

    def collect(self):
        up = GaugeMetricFamily("training_metrics_database_up",
                               "1 when this scrape could read the outbox and jobs from the database.")
        try:
            outbox = db.session.execute(
                select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
                .group_by(OutboxMessage.status)).all()
            leases = db.session.execute(
                select(JobLease.name, JobLease.runs, JobLease.failures, JobLease.last_succeeded_at)).all()
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("Metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _outbox_families(outbox)
        yield from _job_families(leases)


def _outbox_families(rows):
    counts = {QUEUED: 0, SENT: 0, FAILED: 0}
    oldest_queued = None
    for status, count, oldest in rows:
        if status in counts:
            counts[status] = count
        if status == QUEUED:
            oldest_queued = oldest
    messages = GaugeMetricFamily("training_outbox_messages", "E-mails in the outbox, by status.",
                                 labels=["status"])
    for status, count in counts.items():
        messages.add_metric([status], count)
    yield messages
    age = 0.0 if oldest_queued is None else max((utcnow() - oldest_queued).total_seconds(), 0.0)
    yield GaugeMetricFamily("training_outbox_oldest_queued_age_seconds",
                            "Age of the oldest e-mail still waiting to be sent (0 when none waits).",
                            value=age)


def _job_families(rows):
    names = registered_jobs()
    known = {name: (runs, failures, succeeded) for name, runs, failures, succeeded in rows if name in names}
    runs = CounterMetricFamily("training_job_runs", "Job runs finished, by job (every runner).", labels=["job"])
    failures = CounterMetricFamily("training_job_failures", "Job runs that failed, by job (every runner).",
                                   labels=["job"])
    last = GaugeMetricFamily("training_job_last_success_timestamp_seconds",
                             "When each job last finished without failing (Unix time; absent: never).",
                             labels=["job"])
    for name in names:
        run_count, failure_count, succeeded = known.get(name, (0, 0, None))
        runs.add_metric([name], run_count or 0)
        failures.add_metric([name], failure_count or 0)
        if succeeded is not None:
            last.add_metric([name], _unix(succeeded))
    yield runs
    yield failures
    yield last


def _unix(naive_utc: datetime) -> float:
    return (naive_utc - datetime(1970, 1, 1)).total_seconds()


class _ThisProcess:
    """This process's own metrics (single-process mode): requests, bookings, pool, the process."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition(accept: str | None = None) -> tuple[bytes, str]:
    """Every metric, the workers' (or this process's) then the database's, in the format `accept`
    (an Accept header) asks for: OpenMetrics, or else Prometheus's text format; and its content type."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type


# ---------------------------------------------------------------- who may scrape


def _networks(setting: str) -> list:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()]
    except ValueError as exc:
        raise RuntimeError(f"METRICS_ALLOW_FROM must be networks such as 10.0.0.0/8, comma-separated: {exc}")


def _client_allowed(networks: list) -> bool:
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def _token_given(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view():
    """The metrics, to an allowed network with the token (404 otherwise, or 401 for a wrong token)."""
    config = current_app.config
    token = config.get("METRICS_TOKEN") or ""
    if not _client_allowed(current_app.extensions["metrics_networks"]):
        abort(404)
    if not token and config["ENV_NAME"] == "production":
        abort(404)
    if token and not _token_given(token):
        return Response("A bearer token is needed.\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    body, content_type = exposition(request.headers.get("Accept"))
    return Response(body, content_type=content_type)


def init_app(app: Flask) -> None:
    """With METRICS_ENABLED: serve /metrics, time every request, count bookings and watch the pool."""
    if not app.config.get("METRICS_ENABLED"):
        return
    app.extensions["metrics_networks"] = _networks(app.config.get("METRICS_ALLOW_FROM") or "")
    if app.config["ENV_NAME"] == "production" and not app.config.get("METRICS_TOKEN"):
        log.warning("METRICS_ENABLED without METRICS_TOKEN: /metrics answers 404 in production.")
    view = limiter.exempt(csrf.exempt(metrics_view))
    app.add_url_rule("/metrics", "metrics", view, methods=["GET"])
    # First, so that a request another hook answers early (a limit, say) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_record_request)
    _watch_pool(app)
    on_booking_outcome(_booking_outcome)
    if not event.contains(db.session, "after_commit", _count_committed):
        event.listen(db.session, "after_commit", _count_committed)
        event.listen(db.session, "after_transaction_end", _forget_uncommitted)
