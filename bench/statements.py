"""`python -m bench.statements`: SQL statements per request and per page, at 10 and at 5,000 sessions.

    python -m bench.statements                 # SQLite, then a throwaway PostgreSQL if installed
    python -m bench.statements --sqlite-only
    python -m bench.statements --sizes 10 500  # other data sizes (sessions)

For each data size it empties the database and builds that many sessions: half of them in the
past with the reports bench's synthetic data (people, agencies, bookings, completions, evaluations,
a training needs analysis; see bench/reports.py), half in the coming year with about a dozen
bookings each. Then, in this process, through the Flask test client (signed in through the real
sign-in form) and a SQLAlchemy `before_cursor_execute` listener, it counts the statements sent to
the database by:
1. one booking that gets a place, one that joins the waiting list, one cancellation that promotes
   the next person waiting (the issue asks for a fixed small number, not growing with the data);
2. the pages people use most: the programme, a session page, my bookings, a register (as its
   trainer), the agency page (as a coordinator) and each report in the catalogue
   (app/reports/catalogue.py), over the whole span of the data, as an administrator.
Each is asked once first, unmeasured (a booking of a twin session, a cancellation of a twin
booking), so what is counted is a warm request. It prints the counts side by side with "same" or
"grows", and exits 0: it measures, it does not judge.
"""
from __future__ import annotations

import argparse
import logging
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event, func, select, text
from werkzeug.security import generate_password_hash

from app import create_app
from app.accounts.models import ADMIN, COORDINATOR, TRAINER, RoleGrant, User
from app.bookings.models import CONFIRMED, WAITING, Booking
from app.clock import utcnow
from app.courses.models import PUBLISHED, Course, Session, SessionPart, Venue, session_trainers
from app.extensions import db
from app.reports.catalogue import CATALOGUE
from bench.databases import add_database_options, on_both_databases
from bench.reports import bulk_insert
from bench.reports import build as build_history
from config import Config

PASSWORD = "benchmark passphrase"
REPORT_SPAN = {"start": "2021-04-01", "end": "2027-03-31"}


class StatementCounter:
    """Count the statements an engine sends to the database while it is switched on."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        self.count = 0
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@dataclass
class Cast:
    """The people and sessions each counted request needs, by id."""

    learner: str = ""
    leaver: str = ""
    trainer: str = ""
    coordinator: str = ""
    admin: str = ""
    roomy: list[int] = field(default_factory=list)  # [warm-up, measured]: places free
    full: list[int] = field(default_factory=list)  # [warm-up, measured]: no place left
    leaving: list[int] = field(default_factory=list)  # the leaver's bookings, each with someone waiting
    register: int = 0
    sizes: dict = field(default_factory=dict)


def _max_id(db, table: str) -> int:
    return db.session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))


def _fix_sequences(db, tables: list[str]) -> None:
    if db.engine.dialect.name == "postgresql":
        for table in tables:
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
        db.session.commit()


def build(db, n_sessions: int, rng: random.Random) -> Cast:
    """Half the sessions in the past (the reports bench's data), half ahead, and the cast."""
    past = n_sessions // 2
    sizes = build_history(db, past / 4000, rng)
    # On PostgreSQL the history leaves its connection in autocommit (for ANALYZE): start afresh.
    db.session.remove()
    db.engine.dispose()
    now = utcnow().replace(microsecond=0)
    people = _max_id(db, "users")
    first = _max_id(db, "sessions") + 1
    bulk_insert(db, Venue.__table__, [{"id": 1, "name": "Northbridge Civic Centre"}])
    sessions, parts, bookings = [], [], []
    booking_id = _max_id(db, "bookings")
    for n in range(n_sessions - past):
        starts = (now + timedelta(days=1 + rng.randrange(365))).replace(hour=9, minute=30, second=0)
        sessions.append({"id": first + n, "course_id": rng.randint(1, 40), "venue_id": 1, "capacity": 20,
                         "status": PUBLISHED, "starts_at": starts, "ends_at": starts + timedelta(hours=6),
                         "created_at": now, "updated_at": now})
        parts.append({"id": n + 1, "session_id": first + n, "starts_at": starts,
                      "ends_at": starts + timedelta(hours=6)})
        for rank, user_id in enumerate(rng.sample(range(1, people + 1), min(12, people))):
            booking_id += 1
            bookings.append({"id": booking_id, "session_id": first + n, "user_id": user_id,
                             "agency_id": rng.randint(1, 150), "status": WAITING if rank >= 10 else CONFIRMED,
                             "waiting_since": now if rank >= 10 else None,
                             "confirmed_at": None if rank >= 10 else now, "created_at": now, "updated_at": now})
    bulk_insert(db, Session.__table__, sessions)
    bulk_insert(db, SessionPart.__table__, parts)
    bulk_insert(db, Booking.__table__, bookings)
    db.session.commit()
    _fix_sequences(db, ["venues", "sessions", "session_parts", "bookings", "users"])

    password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")

    def person(label: str, role: str | None = None, agency_id: int = 1) -> User:
        user = User(name=f"Bench {label}", email=f"bench-{label}@bench.example", agency_id=agency_id,
                    line_manager_name="Manager", line_manager_email=f"manager-{label}@bench.example",
                    password_hash=password_hash, email_verified_at=now)
        db.session.add(user)
        db.session.flush()
        if role:
            db.session.add(RoleGrant(user_id=user.id, role=role, agency_id=agency_id if role == COORDINATOR else None))
        return user

    learner, leaver, trainer = person("learner"), person("leaver"), person("trainer", TRAINER)
    coordinator, admin = person("coordinator", COORDINATOR), person("admin", ADMIN)
    others = [person(f"other{n}") for n in range(6)]
    starts = (now + timedelta(days=60)).replace(hour=9, minute=30, second=0)

    def session(capacity: int, day: int) -> Session:
        # A course each: a person may hold one place per course.
        course = Course(code=f"BENCH{day}", title=f"Bench course {day}", requires_manager_approval=False,
                        duration_hours=6)
        begins = starts + timedelta(days=day)
        s = Session(course=course, venue_id=1, capacity=capacity, status=PUBLISHED, starts_at=begins,
                    ends_at=begins + timedelta(hours=6))
        s.parts = [SessionPart(starts_at=begins, ends_at=begins + timedelta(hours=6))]
        db.session.add(s)
        return s

    def book(s: Session, user: User, status: str = CONFIRMED) -> None:
        db.session.add(Booking(session=s, user_id=user.id, agency_id=user.agency_id, status=status,
                               booked_by_id=user.id, confirmed_at=now if status == CONFIRMED else None,
                               waiting_since=now if status == WAITING else None))

    roomy = [session(20, 0), session(20, 1)]
    full = [session(1, 2), session(1, 3)]
    leaving = [session(1, 4), session(1, 5)]
    for n, s in enumerate(full):
        book(s, others[n])
    for n, s in enumerate(leaving):
        book(s, leaver)
        book(s, others[2 + n], WAITING)
    # The learner's own bookings: the same few at every size, so "my bookings" compares like with like.
    for day in (10, 11, 12):
        book(session(20, day), learner)
    db.session.flush()
    register = db.session.scalar(select(Session.id).where(Session.starts_at < now).order_by(Session.id)) \
        or roomy[0].id
    db.session.execute(session_trainers.insert().values(session_id=register, user_id=trainer.id))
    db.session.commit()
    leaving_ids = [db.session.scalar(select(Booking.id).where(Booking.session_id == s.id,
                                                               Booking.user_id == leaver.id)) for s in leaving]
    sizes = dict(sizes, sessions=db.session.scalar(select(func.count()).select_from(Session)),
                 bookings=db.session.scalar(select(func.count()).select_from(Booking)),
                 people=db.session.scalar(select(func.count()).select_from(User)),
                 register=db.session.scalar(select(func.count()).select_from(Booking).where(
                     Booking.session_id == register, Booking.status == CONFIRMED)))
    return Cast(learner.email, leaver.email, trainer.email, coordinator.email, admin.email,
                [s.id for s in roomy], [s.id for s in full], leaving_ids, register, sizes)


def _signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as {email} failed (HTTP {response.status_code})")
    return client


def measure(app, db, cast: Cast) -> dict[str, int | str]:
    """The statements each request and page sends, warm; a page that does not answer 200 says so."""

    with app.app_context():
        counter = StatementCounter(db.engine)
    counts: dict[str, int | str] = {}

    def count(label: str, client, method: str, path: str, expect: int, warm_path: str | None = None,
              data: dict | None = None, query: dict | None = None) -> None:
        call = client.post if method == "POST" else client.get
        call(warm_path or path, data=data, query_string=query)
        with counter:
            response = call(path, data=data, query_string=query)
        counts[label] = counter.count if response.status_code == expect else f"HTTP {response.status_code}"

    learner = _signed_in(app, cast.learner)
    count("booking that gets a place", learner, "POST", f"/sessions/{cast.roomy[1]}/book", 302,
          f"/sessions/{cast.roomy[0]}/book", data={})
    count("booking that joins the waiting list", learner, "POST", f"/sessions/{cast.full[1]}/book", 302,
          f"/sessions/{cast.full[0]}/book", data={})
    leaver = _signed_in(app, cast.leaver)
    count("cancellation that promotes", leaver, "POST", f"/bookings/{cast.leaving[1]}/cancel", 302,
          f"/bookings/{cast.leaving[0]}/cancel", data={"reason": "Bench"})
    with app.app_context():
        learner_id = db.session.scalar(select(User.id).where(User.email == cast.learner))
        outcome = dict(db.session.execute(select(Booking.session_id, Booking.status).where(
            Booking.user_id == learner_id, Booking.session_id.in_([cast.roomy[1], cast.full[1]]))).all())
        if outcome.get(cast.roomy[1]) != CONFIRMED:
            counts["booking that gets a place"] = f"got {outcome.get(cast.roomy[1])}"
        if outcome.get(cast.full[1]) != WAITING:
            counts["booking that joins the waiting list"] = f"got {outcome.get(cast.full[1])}"
        promoted = db.session.scalar(select(func.count()).select_from(Booking).where(
            Booking.id != cast.leaving[1], Booking.status == CONFIRMED,
            Booking.session_id == select(Booking.session_id).where(Booking.id == cast.leaving[1])
            .scalar_subquery()))
        if promoted != 1:
            counts["cancellation that promotes"] = "nobody promoted"
        db.session.remove()

    count("page: programme", learner, "GET", "/programme", 200)
    count("page: a session", learner, "GET", f"/sessions/{cast.roomy[1]}", 200)
    count("page: my bookings", learner, "GET", "/my-bookings", 200)
    count("page: a register (trainer)", _signed_in(app, cast.trainer), "GET", f"/registers/{cast.register}", 200)
    count("page: agency (coordinator)", _signed_in(app, cast.coordinator), "GET", "/agency", 200)
    admin = _signed_in(app, cast.admin)
    for slug, report in CATALOGUE.items():
        query = dict(REPORT_SPAN, tna="1") if report.with_tna else dict(REPORT_SPAN)
        count(f"report: {report.title}", admin, "GET", f"/reports/{slug}", 200, query=query)
    return counts


def run_on(url: str, sizes: list[int], seed: int) -> None:
    """Build each size on one database, count, and print the counts side by side."""

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = secrets.token_hex(32)
        WTF_CSRF_ENABLED = False
        RATELIMIT_ENABLED = False

    app = create_app(BenchConfig)
    app.config["RATELIMIT_ENABLED"] = False
    results, described = [], []
    for size in sizes:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            cast = build(db, size, random.Random(seed))
            built = time.perf_counter() - started
            db.session.remove()
        described.append(f"{cast.sizes['people']:,} people, {cast.sizes['bookings']:,} bookings,"
                         f" {cast.sizes['sessions']:,} sessions with the bench's own, {cast.sizes['register']}"
                         f" people on the register counted (built in {built:.1f} s)")
        results.append(measure(app, db, cast))
    with app.app_context():
        engine = db.engine.dialect.name
        if engine == "postgresql":
            db.session.remove()
            db.drop_all()
    name = "PostgreSQL" if engine == "postgresql" else "SQLite"
    print(f"\n== SQL statements per request and per page on {name}, warm, through the test client")
    for size, text_ in zip(sizes, described):
        print(f"   data with {size:,} sessions: {text_}")
    heads = "".join(f"{f'{size:,} sessions':>16}" for size in sizes)
    print(f"   {'request':<44}{heads}")
    for label in results[0]:
        values = [r.get(label) for r in results]
        if all(isinstance(v, int) for v in values):
            verdict = "same" if len(set(values)) == 1 else "grows"
        else:
            verdict = "not measured"
        cells = "".join(f"{str(v):>16}" for v in values)
        print(f"   {label:<44}{cells}   {verdict}")


def main(argv: list[str] | None = None) -> int:
    """Count on SQLite, then on a throwaway PostgreSQL when one can be started."""
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 5000], help="sessions (default 10 5000)")
    parser.add_argument("--seed", type=int, default=2015)
    add_database_options(parser)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the app's own log lines (mail queued, jobs) are not figures
    return on_both_databases("bench.statements", args, lambda url: run_on(url, args.sizes, args.seed),
                             ["--seed", str(args.seed), "--sizes", *map(str, args.sizes)])


if __name__ == "__main__":
    sys.exit(main())
