"""One database's run: seed it, start gunicorn on loopback, rush it, print the figures, stop.

The app's modules are imported inside the functions that use them: config.py reads the
environment when it is first imported, and run() sets DATABASE_URL and the rest before that.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pstats
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.cookiejar import CookieJar
from pathlib import Path

from sqlalchemy import func, select

from bench import metrics as bench_metrics
from bench.outbox import Sink

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "benchmark passphrase"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TRIVIAL_PAGE = "/accessibility"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One signed-in person: their own cookies, on 127.0.0.1 only."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
        self.token = ""

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def fetch_token(self, path: str) -> str:
        status, page = self.request(path)
        match = CSRF.search(page) if status == 200 else None
        if not match:
            raise RuntimeError(f"no form at {path} (HTTP {status})")
        return match.group(1)

    def sign_in(self, email: str) -> None:
        token = self.fetch_token("/sign-in")
        status, _ = self.request("/sign-in", {"csrf_token": token, "email": email, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in failed (HTTP {status})")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _seed(args) -> tuple[list[int], list[str]]:
    """Sessions with only their last places free, and the people who will rush them.

    Only models and migrations: the places already taken are confirmed booking rows written
    directly, so the bench does not depend on where the booking services live.
    """
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.accounts.models import Agency, Sector, User
    from app.bookings.models import CONFIRMED, Booking
    from app.clock import utcnow
    from app.courses.models import PUBLISHED, Course, Reservation, Session, SessionPart, Venue
    from app.extensions import db

    app = create_app()
    with app.app_context():
        # Alembic logs each migration to stderr; the bench prints figures only.
        with contextlib.redirect_stderr(io.StringIO()):
            upgrade(directory=str(ROOT / "migrations"))
        sectors = [Sector(name=n, position=i) for i, n in enumerate(["Health - acute", "Police", "Education - schools"])]
        agencies = [Agency(name=f"Bench {s.name}", sector=s) for s in sectors]
        db.session.add_all(agencies)
        course = Course(code="L3", title="Safeguarding Level 3", requires_manager_approval=False)
        venue = Venue(name="Northbridge Civic Centre")
        start = (utcnow() + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)
        sessions = []
        for number in range(args.sessions):
            begins = start + timedelta(days=number)
            session = Session(course=course, venue=venue, capacity=args.capacity, status=PUBLISHED,
                              starts_at=begins, ends_at=begins + timedelta(hours=6))
            session.parts = [SessionPart(starts_at=begins, ends_at=begins + timedelta(hours=6))]
            if args.reserved and args.capacity >= 10:
                session.reservations = [Reservation(sector=sectors[0], places=args.capacity // 6),
                                        Reservation(sector=sectors[1], places=args.capacity // 6)]
            sessions.append(session)
        db.session.add_all(sessions)
        # A cheap hash: signing people in is set-up here, not what is measured.
        password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
        now = utcnow()

        def person(label: str, n: int) -> User:
            return User(name=f"{label} {n}", email=f"{label.lower()}{n}@bench.example",
                        agency=agencies[n % len(agencies)], line_manager_name="Manager",
                        line_manager_email=f"manager{n}@bench.example", password_hash=password_hash,
                        email_verified_at=now)

        # --profile: every other session is full already, so its rushers join the waiting list.
        taken = [args.capacity if args.profile and i % 2 else max(args.capacity - args.left, 0)
                 for i in range(args.sessions)]
        fillers = [person("Filler", n) for n in range(sum(taken))]
        places = [sessions[i] for i, n in enumerate(taken) for _ in range(n)]
        rushers = [person("Rusher", n) for n in range(args.people)]
        db.session.add_all(fillers + rushers)
        db.session.flush()
        db.session.add_all(Booking(session=session, user=filler, agency=filler.agency,
                                   status=CONFIRMED, booked_by=filler, confirmed_at=now)
                           for session, filler in zip(places, fillers))
        db.session.commit()
        return [s.id for s in sessions], [p.email for p in rushers]


def _start_gunicorn(args, port: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "gthread",
               "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
               "--timeout", "60", "--no-control-socket"]  # two servers would share one control socket
    # The app's own line per request would bury the bench's figures: only warnings and errors.
    env = dict(env, LOG_LEVEL="WARNING")
    if env.get("BENCH_PROFILE_DIR"):
        command += ["--config", str(ROOT / "bench" / "gunicorn_profile.py")]
    return subprocess.Popen(command + ["wsgi:app"], cwd=ROOT, env=env, start_new_session=True)


def _start_runner(env: dict, log: Path) -> subprocess.Popen:
    """A job runner (`flask jobs work`) looking for due work every second."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "work", "--tick", "1"]
    with open(log, "w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_until_up(base_url: str, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped while starting")
        try:
            with urllib.request.urlopen(base_url + TRIVIAL_PAGE, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start in time")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def _at_once(calls: list) -> tuple[list[tuple[int, float]], float]:
    """Run the calls in parallel, released together; return (status, seconds) each and the wall time."""
    barrier = threading.Barrier(len(calls) + 1)

    def timed(call):
        barrier.wait(timeout=120)
        began = time.perf_counter()
        try:
            status = call()
        except OSError:
            status = 0
        return status, time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(timed, call) for call in calls]
        barrier.wait(timeout=120)
        began = time.perf_counter()
        results = [f.result(timeout=180) for f in futures]
        wall = time.perf_counter() - began
    return results, wall


def _figures(results: list[tuple[int, float]], wall: float) -> dict:
    latencies = sorted(seconds for _, seconds in results)
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 2 else latencies[0]
    return {
        "per_second": len(results) / wall if wall else float("inf"),
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": p95 * 1000,
        "errors": sum(1 for status, _ in results if status == 0 or status >= 500),
    }


def _check_places(session_ids: list[int]) -> tuple[int, int, bool]:
    """(places held, people waiting, never overbooked?) after the rush, read from the database."""

    from app import create_app
    from app.bookings.models import HOLDS_PLACE, WAITING, Booking
    from app.courses.models import Reservation, Session
    from app.extensions import db

    app = create_app()
    with app.app_context():
        held = waiting = 0
        within = True
        for session in db.session.scalars(select(Session).where(Session.id.in_(session_ids))):
            counts = dict(db.session.execute(
                select(Booking.reservation_id, func.count())
                .where(Booking.session_id == session.id, Booking.status.in_(HOLDS_PLACE))
                .group_by(Booking.reservation_id)).all())
            total = sum(counts.values())
            held += total
            within &= total <= session.capacity
            for reservation in db.session.scalars(select(Reservation).where(Reservation.session_id == session.id)):
                within &= counts.get(reservation.id, 0) <= reservation.places
            waiting += db.session.scalar(select(func.count()).select_from(Booking).where(
                Booking.session_id == session.id, Booking.status == WAITING))
        return held, waiting, within


def _promotions_and_mail() -> tuple[int, int, int, int]:
    """(people promoted, promoted more than once, mails queued, mails sent) from the database."""

    from app import create_app
    from app.bookings.models import HOLDS_PLACE, WAITING, BookingEvent
    from app.email import SENT, OutboxMessage
    from app.extensions import db

    app = create_app()
    with app.app_context():
        per_booking = db.session.execute(
            select(BookingEvent.booking_id, func.count())
            .where(BookingEvent.from_status == WAITING, BookingEvent.to_status.in_(HOLDS_PLACE))
            .group_by(BookingEvent.booking_id)).all()
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        sent = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == SENT))
        return len(per_booking), sum(1 for _, n in per_booking if n > 1), queued, sent


def _bookings_holding_places(session_ids: list[int], emails: list[str]) -> dict[str, int]:
    """The booking id of each rusher who holds a place, by e-mail address."""

    from app import create_app
    from app.accounts.models import User
    from app.bookings.models import HOLDS_PLACE, Booking
    from app.extensions import db

    app = create_app()
    with app.app_context():
        rows = db.session.execute(
            select(User.email, Booking.id).join(Booking, Booking.user_id == User.id)
            .where(Booking.session_id.in_(session_ids), Booking.status.in_(HOLDS_PLACE),
                   User.email.in_(emails))).all()
        return dict(rows)


def _print_profile(folder: Path, groups: list[str], top: int) -> None:
    """Merge the workers' profiles per group and print the functions where the time went."""
    for group in groups:
        files = sorted(folder.glob(f"{group}.*.prof"))
        if not files:
            print(f"   profile, booking that {group}: no requests profiled")
            continue
        out = io.StringIO()
        stats = pstats.Stats(*map(str, files), stream=out)
        total = stats.total_tt
        print(f"   profile, booking that {group}: {len(files)} requests, {total / len(files) * 1000:.1f} ms"
              f" each, wall clock in its worker thread (cProfile, waiting included)")
        stats.sort_stats("cumulative").print_stats(top)
        print(f"     top {top} by cumulative time:")
        _print_rows(out.getvalue())
        out.seek(0)
        out.truncate()
        stats.sort_stats("cumulative").print_stats(f"{ROOT}/app/", top)
        print(f"     top {top} of the app's own functions by cumulative time:")
        _print_rows(out.getvalue())
        out.seek(0)
        out.truncate()
        stats.sort_stats("tottime").print_stats(top)
        print(f"     top {top} by own time:")
        _print_rows(out.getvalue())


def _print_rows(listing: str) -> None:
    """The function rows of a pstats listing, with the folders up to the package cut off."""
    for line in listing.splitlines():
        if re.match(r"\s*\d", line) and "function calls" not in line:
            line = re.sub(r"\S*/site-packages/", "", line.strip()).replace(f"{ROOT}/", "")
            print("     " + re.sub(r"/\S*/lib/python3\.\d+/", "", line))


def _line(label: str, figures: dict, unit: str) -> str:
    return (f"   {label:<12}{figures['per_second']:8.1f} {unit}/s   median {figures['median_ms']:7.1f} ms"
            f"   p95 {figures['p95_ms']:7.1f} ms   errors {figures['errors']}")


def run(args) -> int:
    """Rush one database through gunicorn and print the figures; 1 if anything went wrong."""
    backend = args.inner
    folder = Path(tempfile.mkdtemp(prefix="training-bench-"))
    if backend == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    elif not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        print("PostgreSQL run needs scripts/with_postgres.sh to provide DATABASE_URL", file=sys.stderr)
        return 1
    # Settings for this run only: a throwaway secret, loopback links, no per-address sign-in limit
    # (every bench person signs in from 127.0.0.1).
    os.environ.update({"SECRET_KEY": secrets.token_hex(32), "APP_ENV": "development",
                       "MAIL_SERVER": "127.0.0.1", "RATELIMIT_ENABLED": "false"})
    deadline = time.monotonic() + args.timeout
    servers: list[subprocess.Popen] = []
    runners: list[subprocess.Popen] = []
    sink = None
    promotions = None
    mail = None
    try:
        session_ids, emails = _seed(args)
        if args.runners:
            sink = Sink()
            os.environ["MAIL_PORT"] = str(sink.port)
        if args.profile:
            # Every other session has places for everyone who rushes it; the others are full.
            os.environ["BENCH_PROFILE_DIR"] = str(folder)
            os.environ["BENCH_PROFILE_GROUPS"] = json.dumps(
                {sid: ("gets a place" if i % 2 == 0 else "joins the waiting list")
                 for i, sid in enumerate(session_ids)})
        ports = [_free_port() for _ in range(args.servers)]
        base_urls = [f"http://127.0.0.1:{port}" for port in ports]
        os.environ["BASE_URL"] = base_urls[0]
        # Several servers: each serves /metrics, which is read at the end (bench/metrics.py).
        token = bench_metrics.new_token() if args.servers > 1 else None
        servers = [_start_gunicorn(args, port, {**os.environ, **(
            bench_metrics.metrics_environment(folder, port, token) if token else {})}) for port in ports]
        for base_url, server in zip(base_urls, servers):
            _wait_until_up(base_url, server, deadline)
        runners = [_start_runner(dict(os.environ), folder / f"runner{n}.log") for n in range(args.runners)]

        # The rush is shared between the servers: person i talks to server i mod n throughout.
        clients = [Client(base_urls[i % len(base_urls)]) for i in range(len(emails))]

        def prepare(index: int) -> None:
            clients[index].sign_in(emails[index])
            session_id = session_ids[index % len(session_ids)]
            clients[index].token = clients[index].fetch_token(f"/sessions/{session_id}/book")

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(prepare, range(len(clients))))
        if time.monotonic() > deadline:
            raise RuntimeError("ran out of time while signing people in")

        def book(index: int):
            session_id = session_ids[index % len(session_ids)]
            return lambda: clients[index].request(f"/sessions/{session_id}/book",
                                                  {"csrf_token": clients[index].token})[0]

        booking_results, booking_wall = _at_once([book(i) for i in range(len(clients))])
        trivial_results, trivial_wall = _at_once(
            [(lambda c=c: c.request(TRIVIAL_PAGE)[0]) for c in clients])
        if args.cancel:
            # A wave of cancellations, shared between the servers too: each frees a place that the
            # next person on the waiting list is promoted into, and both get an e-mail.
            holding = _bookings_holding_places(session_ids, emails)
            leavers = [i for i, email in enumerate(emails) if email in holding][:args.cancel]

            def cancel(index: int):
                path = f"/bookings/{holding[emails[index]]}/cancel"
                return lambda: clients[index].request(path, {"csrf_token": clients[index].token,
                                                             "reason": "Bench"})[0]

            cancel_results, cancel_wall = _at_once([cancel(i) for i in leavers])
            promotions = _figures(cancel_results, cancel_wall)
        held, waiting, within = _check_places(session_ids)
        if sink is not None:
            mail = _wait_for_mail(sink, deadline)
        promoted, twice, queued, sent = _promotions_and_mail()
        scraped = bench_metrics.summary(base_urls, token) if token else []
    except Exception as exc:  # the bench reports and stops; it never leaves a server behind
        print(f"== {backend}: failed: {exc}")
        return 1
    finally:
        for process in servers + runners:
            _stop(process)
        if sink is not None:
            sink.stop()

    booking, trivial = _figures(booking_results, booking_wall), _figures(trivial_results, trivial_wall)
    name = "PostgreSQL" if backend == "postgresql" else "SQLite"
    servers_text = (f"{args.servers} gunicorn servers" if args.servers > 1 else "gunicorn")
    print(f"== {name}, {args.title}: {servers_text} {args.workers} workers x {args.threads} threads on"
          f" 127.0.0.1, {os.cpu_count()} CPUs shared with the {len(clients)} client threads")
    free = sum(min(args.left, args.capacity) for i in range(len(session_ids)) if not (args.profile and i % 2))
    print(f"   {len(clients)} people booking the last {free} places of {len(session_ids)} sessions at once"
          + (f", shared between {args.servers} servers" if args.servers > 1 else ""))
    print(_line("booking:", booking, "answers"))
    print(_line("yardstick:", trivial, "answers") + f"  (trivial page {TRIVIAL_PAGE}, same threads and requests)")
    ratio_rate = booking["per_second"] / trivial["per_second"] if trivial["per_second"] else 0.0
    ratio_p95 = booking["p95_ms"] / trivial["p95_ms"] if trivial["p95_ms"] else float("inf")
    print(f"   ratio:      throughput {ratio_rate:.2f} of the trivial page's (goal >= {args.goal_rate});"
          f" p95 {ratio_p95:.2f}x the trivial page's" + (f" (goal <= {args.goal_p95})" if args.goal_p95 else ""))
    print(f"   outcome:    {held} of {len(session_ids) * args.capacity} places held, {waiting} waiting; never overbooked: {'yes' if within else 'NO'}")
    ok = within and not booking["errors"] and not trivial["errors"]
    if promotions is not None:
        print(_line("cancelling:", promotions, "answers") + "  (each promotes the next person waiting)")
        ok &= not promotions["errors"]
    if args.cancel or args.servers > 1:
        print(f"   promoted:   {promoted} people; promoted twice: {twice}")
        ok &= twice == 0
    if mail is not None:
        delivered, distinct, duplicated = mail
        shares = [sum(int(n) for n in re.findall(r"deliver_outbox: (\d+) sent", log.read_text()))
                  for log in sorted(folder.glob("runner*.log"))]
        print(f"   mail:       {queued} queued, {sent} marked sent by {args.runners} job runners"
              f" ({' + '.join(map(str, shares))}),"
              f" {delivered} delivered to the SMTP sink ({distinct} distinct Message-IDs);"
              f" sent twice: {duplicated}")
        ok &= duplicated == 0 and distinct == queued
    for line in scraped:
        print(line)
    if args.profile:
        _print_profile(folder, ["gets a place", "joins the waiting list"], args.profile)
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


def _wait_for_mail(sink, deadline: float) -> tuple[int, int, int]:
    """Wait until the runners have sent every queued message; (received, distinct, twice) at the sink."""

    from app import create_app
    from app.email import QUEUED, OutboxMessage
    from app.extensions import db

    app = create_app()
    with app.app_context():
        while time.monotonic() < deadline:
            left = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status == QUEUED))
            db.session.rollback()
            if not left:
                break
            time.sleep(0.5)
    time.sleep(1)  # the last message's 250 may be in flight when its row says sent
    counts = sink.take_counts()
    return sum(counts.values()), len(counts), sum(1 for n in counts.values() if n > 1)
