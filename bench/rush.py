"""One database's run: seed it, start gunicorn on loopback, rush it, print the figures, stop."""
from __future__ import annotations

import os
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
    """Sessions with only their last places free, and the people who will rush them."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.accounts.models import Agency, Sector, User
    from app.bookings.booking import book_place
    from app.clock import utcnow
    from app.courses.models import PUBLISHED, Course, Reservation, Session, SessionPart, Venue
    from app.extensions import db

    app = create_app()
    with app.app_context():
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
            if args.capacity >= 10:
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

        fillers = [person("Filler", n) for n in range(args.sessions * max(args.capacity - args.left, 0))]
        rushers = [person("Rusher", n) for n in range(args.people)]
        db.session.add_all(fillers + rushers)
        db.session.commit()
        for index, filler in enumerate(fillers):
            book_place(sessions[index % len(sessions)], filler, filler)
        db.session.commit()
        return [s.id for s in sessions], [p.email for p in rushers]


def _start_gunicorn(args, port: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "gthread",
               "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
               "--timeout", "60", "wsgi:app"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


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
    from sqlalchemy import func, select

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


def run(args) -> int:
    """Rush one database through gunicorn and print the figures; 1 if anything went wrong."""
    backend = args.inner
    folder = tempfile.mkdtemp(prefix="training-bench-")
    if backend == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.db"
    elif not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        print("PostgreSQL run needs scripts/with_postgres.sh to provide DATABASE_URL", file=sys.stderr)
        return 1
    # Settings for this run only: a throwaway secret, loopback links.
    os.environ.update({"SECRET_KEY": secrets.token_hex(32),
                       "APP_ENV": "development", "MAIL_SERVER": "127.0.0.1"})
    deadline = time.monotonic() + args.timeout
    server = None
    try:
        session_ids, emails = _seed(args)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        os.environ["BASE_URL"] = base_url
        server = _start_gunicorn(args, port, dict(os.environ))
        _wait_until_up(base_url, server, deadline)

        clients = [Client(base_url) for _ in emails]

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
        held, waiting, within = _check_places(session_ids)
    except Exception as exc:  # the bench reports and stops; it never leaves a server behind
        print(f"== {backend}: failed: {exc}")
        return 1
    finally:
        if server is not None:
            _stop(server)
        shutil.rmtree(folder, ignore_errors=True)

    booking, trivial = _figures(booking_results, booking_wall), _figures(trivial_results, trivial_wall)
    free = len(session_ids) * min(args.left, args.capacity)
    name = "PostgreSQL" if backend == "postgresql" else "SQLite"
    print(f"== {name}: gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1,"
          f" {os.cpu_count()} CPUs shared with the {len(clients)} client threads")
    print(f"   {len(clients)} people booking the last {free} places of {len(session_ids)} sessions at once")
    print(f"   booking:        {booking['per_second']:8.1f} bookings/s   median {booking['median_ms']:7.1f} ms"
          f"   p95 {booking['p95_ms']:7.1f} ms   errors {booking['errors']}")
    print(f"   trivial page:   {trivial['per_second']:8.1f} requests/s   median {trivial['median_ms']:7.1f} ms"
          f"   p95 {trivial['p95_ms']:7.1f} ms   errors {trivial['errors']}  ({TRIVIAL_PAGE})")
    ratio_median = booking["median_ms"] / trivial["median_ms"] if trivial["median_ms"] else float("inf")
    ratio_rate = booking["per_second"] / trivial["per_second"] if trivial["per_second"] else 0.0
    print(f"   ratio:          booking median latency {ratio_median:.1f}x the trivial page's;"
          f" throughput {ratio_rate:.2f}x")
    print(f"   outcome:        {held} places held after the rush, {waiting} waiting;"
          f" never overbooked: {'yes' if within else 'NO'}")
    return 0 if within and not booking["errors"] and not trivial["errors"] else 1
