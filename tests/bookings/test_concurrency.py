"""Never overbooked: a hundred people booking the last places at once, through the real HTTP stack
(a threaded server, CSRF on, real sign-in), on SQLite and on PostgreSQL; and cancellations with
their promotions racing new bookings; and two job runners at once."""
from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.security import generate_password_hash

from app.accounts.models import User
from app.bookings.booking import book_place
from app.bookings.queries import waiting_list
from app.bookings.models import CANCELLED, CONFIRMED, HOLDS_PLACE, WAITING, Booking
from app.email import OutboxMessage
from app.extensions import db
from app.jobs import run_jobs
from app.locking import lock_loaded
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import live_server  # noqa: F401  (the threaded HTTP server, CSRF on)

PEOPLE = 100
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's cookie jar against the live server."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def token(self, path: str) -> str:
        status, page = self.request(path)
        assert status == 200, (path, status)
        return CSRF.search(page).group(1)

    def sign_in(self, email: str) -> None:
        token = self.token("/sign-in")
        status, _ = self.request("/sign-in", {"csrf_token": token, "email": email, "password": TEST_PASSWORD})
        assert status == 302, status


def _people(agencies: list, count: int, prefix: str) -> list[User]:
    """Many people at once, sharing one password hash (hashing a hundred times is slow)."""
    password_hash = generate_password_hash(TEST_PASSWORD, "pbkdf2:sha256:1000")
    from app.clock import utcnow

    people = [
        User(name=f"{prefix} {n}", email=f"{prefix.lower()}{n}@example.org", agency=agencies[n % len(agencies)],
             line_manager_name="Manager", line_manager_email=f"manager-{prefix.lower()}{n}@example.org",
             password_hash=password_hash, email_verified_at=utcnow())
        for n in range(count)
    ]
    db.session.add_all(people)
    db.session.commit()
    return people


def _in_parallel(jobs: list) -> list:
    """Run each callable in its own thread, all released together; return their results."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        prepare, act = job
        prepare()
        barrier.wait(timeout=300)
        return act()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _counts(session) -> tuple[Counter, Counter]:
    db.session.commit()  # end our read transaction: see what the server's requests committed
    rows = db.session.execute(
        select(Booking.status, Booking.reservation_id).where(Booking.session_id == session.id)
    ).all()
    return Counter(s for s, _ in rows), Counter(r for s, r in rows if s in HOLDS_PLACE)


def _assert_never_overbooked(session, health_pool, police_pool):
    states, pools = _counts(session)
    assert states[CONFIRMED] == 10, states
    assert pools[health_pool.id] <= 3 and pools[police_pool.id] <= 2, pools
    assert pools[None] <= 5, pools
    per_person = db.session.execute(
        select(Booking.user_id, func.count()).where(Booking.session_id == session.id).group_by(Booking.user_id)
    ).all()
    assert all(count == 1 for _, count in per_person)
    return states


@pytest.fixture
def rush(app, now, make_agency, make_session):
    health = make_agency("St Brigid's Hospital", sector="Health - acute")
    police = make_agency("Metropolitan Police North", sector="Police")
    schools = make_agency("Hillcrest Primary", sector="Education - schools")
    session = make_session(capacity=10, reservations=[(health.sector, 3), (police.sector, 2)],
                           reservation_release_days=7)
    health_pool, police_pool = session.reservations
    return session, health_pool, police_pool, [health, police, schools]


def test_a_hundred_people_booking_ten_places_at_once_over_http(app, live_server, rush):
    session, health_pool, police_pool, agencies = rush
    emails = [p.email for p in _people(agencies, PEOPLE, "Rush")]
    browsers = [Browser(live_server.url) for _ in emails]
    tokens: dict[int, str] = {}

    def job(index):
        def prepare():
            browsers[index].sign_in(emails[index])
            tokens[index] = browsers[index].token(f"/sessions/{session_id}/book")

        def act():
            return browsers[index].request(f"/sessions/{session_id}/book", {"csrf_token": tokens[index]})[0]

        return prepare, act

    session_id = session.id
    statuses = _in_parallel([job(i) for i in range(PEOPLE)])

    assert Counter(statuses) == {302: PEOPLE}, "every attempt answered, none failed"
    states = _assert_never_overbooked(session, health_pool, police_pool)
    assert states == {CONFIRMED: 10, WAITING: PEOPLE - 10}
    _, pools = _counts(session)
    assert (pools[health_pool.id], pools[police_pool.id], pools[None]) == (3, 2, 5)
    waiting = waiting_list(session)
    assert len({b.waiting_since for b in waiting}) >= 1 and len(waiting) == PEOPLE - 10
    # Each person was told once, by the message that matches what they got.
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert sum(":confirmed:" in k for k in keys) == 10
    assert sum(":waiting:" in k for k in keys) == PEOPLE - 10


def test_cancellations_and_their_promotions_racing_new_bookings_over_http(app, live_server, rush):
    session, health_pool, police_pool, agencies = rush
    health, police, schools = agencies
    holders = _people([health, health, health, police, police, schools, schools, schools, schools, schools], 10,
                      "Holder")
    for person in holders:
        book_place(session, person, person)
    # A waiting list that can fill every kind of freed place, in a known order.
    queue = _people([schools, health, police, schools], 20, "Queue")
    for person in queue:
        assert book_place(session, person, person).status == WAITING
    db.session.commit()
    newcomers = _people(agencies, 60, "New")
    holder_bookings = {b.user_id: b.id for b in db.session.scalars(select(Booking).where(Booking.status == CONFIRMED))}

    session_id = session.id
    tokens: dict[str, str] = {}

    def job(email: str, path: str):
        browser = Browser(live_server.url)

        def prepare():
            browser.sign_in(email)
            tokens[email] = browser.token(path)

        def act():
            return browser.request(path, {"csrf_token": tokens[email]})[0]
        return prepare, act

    jobs = [job(p.email, f"/bookings/{holder_bookings[p.id]}/cancel") for p in holders]
    jobs += [job(p.email, f"/sessions/{session_id}/book") for p in newcomers]
    statuses = _in_parallel(jobs)

    assert Counter(statuses) == {302: len(jobs)}
    _assert_never_overbooked(session, health_pool, police_pool)
    db.session.commit()
    status_of = {b.user_id: b.status for b in db.session.scalars(select(Booking).where(Booking.session_id == session.id))}
    assert all(status_of[p.id] == CANCELLED for p in holders), status_of
    # Every freed place went at once to someone already waiting, so newcomers all wait.
    assert all(status_of[p.id] == WAITING for p in newcomers)
    promoted = [p for p in queue if status_of[p.id] == CONFIRMED]
    assert len(promoted) == 10
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert sum(":promoted:" in k for k in keys) == 10


def test_two_job_runners_at_once_promote_and_tell_each_person_once(app, rush, make_user, set_now):
    session, health_pool, police_pool, agencies = rush
    people = _people(agencies, 14, "Job")
    for person in people:
        book_place(session, person, person)
    db.session.commit()
    # Ten places held, four waiting; the courses screen then raises the capacity by three.
    session.capacity = 13
    db.session.commit()

    def runner():
        with app.app_context():
            return run_jobs()

    results = _in_parallel([(lambda: None, runner), (lambda: None, runner)])

    promoted_counts = [int(r["promote_from_waiting_lists"].split()[0]) for r in results
                       if not str(r["promote_from_waiting_lists"]).startswith("skipped")]
    assert sum(promoted_counts) == 3
    states, _ = _counts(session)
    assert states == {CONFIRMED: 13, WAITING: 1}
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert sum(":promoted:" in k for k in keys) == 3
    assert len(keys) == len(set(keys))


def test_leaving_the_waiting_list_while_places_free_up_never_cancels_a_promoted_place(app, live_server, rush):
    from app.bookings.models import BookingEvent

    session, health_pool, police_pool, agencies = rush
    schools = agencies[2]
    holders = _people(agencies, 10, "Holder")
    for person in holders:
        book_place(session, person, person)
    leavers = _people([schools], 10, "Leaver")
    for person in leavers:
        assert book_place(session, person, person).status == WAITING
    db.session.commit()
    booking_of = {b.user_id: b.id for b in db.session.scalars(select(Booking).where(Booking.session_id == session.id))}
    tokens: dict[str, str] = {}

    def job(email: str, path: str):
        browser = Browser(live_server.url)

        def prepare():
            browser.sign_in(email)
            status, page = browser.request(path)
            assert status == 200
            tokens[email] = CSRF.search(page).group(1)
            leaving = re.search(r'name="leaving"[^>]*value="([^"]*)"', page)
            tokens[email + ":leaving"] = leaving.group(1) if leaving else ""

        def act():
            data = {"csrf_token": tokens[email], "leaving": tokens[email + ":leaving"]}
            return browser.request(path, data)[0]
        return prepare, act

    jobs = [job(p.email, f"/bookings/{booking_of[p.id]}/cancel") for p in holders[:5]]
    jobs += [job(p.email, f"/bookings/{booking_of[p.id]}/cancel") for p in leavers]
    assert Counter(_in_parallel(jobs)) == {302: len(jobs)}

    db.session.commit()
    for person in leavers:
        path = [e.to_status for e in db.session.scalars(
            select(BookingEvent).where(BookingEvent.booking_id == booking_of[person.id]).order_by(BookingEvent.id))]
        assert path in ([WAITING, CANCELLED], [WAITING, CONFIRMED]), path
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    promoted = [p for p in leavers if any(k.startswith(f"booking:{booking_of[p.id]}:promoted:") for k in keys)]
    states, _ = _counts(session)
    assert states[CONFIRMED] == 5 + len(promoted), "each promoted leaver kept the place they were told of"



def test_while_a_persons_row_is_locked_no_one_else_can_insert_a_booking_for_them(app, make_user, make_session):
    """What book_place relies on to skip reading a missing row again under the session lock: once
    it has locked the person, another request (the L&D team moving a booking here) cannot insert
    a booking for them until it ends, since the insert's foreign key must share-lock that row."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("on SQLite a POST holds the only write lock from its first statement")
    person = make_user(name="Rowan Mistry")
    session = make_session(capacity=5)
    row = dict(session_id=session.id, user_id=person.id, agency_id=person.agency_id, status=CONFIRMED,
               overbooked=False, access_needs="", manager_email="", late_cancellation=False,
               cancellation_reason="")
    db.session.commit()

    assert lock_loaded(person)  # SELECT ... FOR UPDATE, as book_place does first
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            other.execute(Booking.__table__.insert().values(**row))
        other.rollback()
    db.session.rollback()  # the person's lock ends with their transaction: now the insert goes through
    with db.engine.begin() as other:
        other.execute(Booking.__table__.insert().values(**row))


def test_people_joining_the_waiting_list_share_the_sessions_lock_but_a_place_taker_waits(
        app, make_user, make_session):
    """On PostgreSQL a booking that finds the session full locks it FOR SHARE: the people joining
    the waiting list do not queue behind one another, while anyone changing the places held (a
    booking taking a place, a cancellation) waits for them all."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("on SQLite every lock is the one write lock")
    session = make_session(capacity=1)
    db.session.commit()
    lock_loaded(session, shared=True)  # a joiner, holding its shared lock
    query = text("SELECT id FROM sessions WHERE id = :id")
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '300ms'"))
        assert other.execute(text(f"{query.text} FOR SHARE"), {"id": session.id}).scalar() == session.id
        other.rollback()  # a second joiner went straight on
        other.execute(text("SET lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            other.execute(text(f"{query.text} FOR UPDATE"), {"id": session.id})
        other.rollback()
    db.session.rollback()


def test_a_place_that_comes_up_while_joining_the_waiting_list_is_taken(app, make_user, make_session, monkeypatch):
    """Someone who found the session full, and so locked it shared, but finds a place free once
    locked (a cancellation committed in between) trades the shared lock for the exclusive one and
    takes the place instead of waiting for one that is free."""
    from app.bookings import booking as booking_module

    session = make_session(capacity=1)
    leaver, joiner = make_user(name="Imani Okafor"), make_user(name="Tomasz Zielinski")
    held = book_place(session, leaver, leaver)
    db.session.commit()
    held_id = held.id
    real = booking_module._locked_and_asked

    def cancelled_meanwhile(*args, **kwargs):
        with db.engine.begin() as other:  # another request, committed before this one locks
            other.execute(Booking.__table__.update().where(Booking.id == held_id).values(status=CANCELLED))
        return real(*args, **kwargs)

    monkeypatch.setattr(booking_module, "_locked_and_asked", cancelled_meanwhile)
    booking = book_place(session, joiner, joiner)
    if db.engine.dialect.name == "postgresql":
        # It took the place holding the exclusive lock: another joiner's shared lock has to wait.
        with db.engine.connect() as other:
            other.execute(text("SET lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(text("SELECT id FROM sessions WHERE id = :id FOR SHARE"), {"id": session.id})
            other.rollback()
    db.session.commit()
    assert booking.status == CONFIRMED
    assert db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.session_id == session.id, Booking.status.in_(HOLDS_PLACE))) == 1
