"""Places: how many are left on a session, in general and in each reserved pool.

The quota rule: while a session's reservations are open (until `reservation_release_days` before
the start), each reserved pool (for one agency or one sector) is for its own people, and general
places (capacity minus all reservations) are for everyone. A person fills a place in their own
agency's pool first, then their sector's, then a general place. From the release date every free
place is general. Counts come from one grouped query for any number of sessions.

This is the one home of counting the places bookings hold; the programme (courses) reads them
through the answers registered at the end of this module (see app/courses/availability.py).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy import inspect as sa_inspect

from app.accounts.models import User
from app.bookings.eligibility import SESSION_ID, eligibility_problem
from app.bookings.models import ACTIVE_STATES, HOLDS_PLACE, Booking, Completion
from app.clock import utcnow
from app.courses.availability import Places, register_booking_facts
from app.courses.models import CANCELLED, PUBLISHED, Course, Reservation, Session
from app.extensions import db
from app.locking import holds_write_lock

FEW_PLACES = 3

# Booking states shown on the programme.
OPEN = "open"
FEW = "few"
FULL = "full"
CLOSED = "closed"
NOT_OPEN = "not_open"
SESSION_CANCELLED = "cancelled"
STATE_LABELS = {
    OPEN: "Open",
    FEW: "Few places",
    FULL: "Full – waiting list",
    CLOSED: "Closed",
    NOT_OPEN: "Not open yet",
    SESSION_CANCELLED: "Cancelled",
}
STATE_TAG_CLASSES = {
    OPEN: "govuk-tag--green",
    FEW: "govuk-tag--yellow",
    FULL: "govuk-tag--orange",
    CLOSED: "govuk-tag--grey",
    NOT_OPEN: "govuk-tag--blue",
    SESSION_CANCELLED: "govuk-tag--red",
}
BOOKABLE_STATES = (OPEN, FEW, FULL)
GENERAL = None  # the pool key of general places


@dataclass
class Pool:
    reservation_id: int
    label: str
    places: int
    taken: int
    sector_id: int | None
    agency_id: int | None

    @property
    def left(self) -> int:
        return max(self.places - self.taken, 0)


@dataclass
class Availability:
    session_id: int
    capacity: int
    released: bool
    general_taken: int = 0
    pools: list[Pool] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return self.general_taken + sum(p.taken for p in self.pools)

    @property
    def left(self) -> int:
        """Places anyone could still fill, counting every pool."""
        if self.released:
            return max(self.capacity - self.taken, 0)
        return self.general_left + sum(p.left for p in self.pools)

    @property
    def general_places(self) -> int:
        return max(self.capacity - sum(p.places for p in self.pools), 0)

    @property
    def general_left(self) -> int:
        if self.released:
            return max(self.capacity - self.taken, 0)
        # Overfilled pools (an administrator overbooked) eat into general places.
        overflow = sum(max(p.taken - p.places, 0) for p in self.pools)
        return max(self.general_places - self.general_taken - overflow, 0)

    def pools_for(self, agency_id: int | None, sector_id: int | None) -> list[Pool]:
        """The person's own reserved pools, agency before sector."""
        if self.released:
            return []
        mine = [p for p in self.pools if p.agency_id is not None and p.agency_id == agency_id]
        mine += [p for p in self.pools if p.sector_id is not None and p.sector_id == sector_id]
        return mine

    def left_for(self, agency_id: int | None, sector_id: int | None) -> int:
        """Places this person could fill: their own pools plus general places."""
        if self.released:
            return self.left
        return self.general_left + sum(p.left for p in self.pools_for(agency_id, sector_id))

    def take(self, reservation_id: int | None) -> None:
        """Count one more place held in this pool (None: a general place), as just given out."""
        pool = next((p for p in self.pools if p.reservation_id == reservation_id), None)
        if pool is None or self.released:
            self.general_taken += 1
        else:
            pool.taken += 1

    def place_for(self, agency_id: int | None, sector_id: int | None) -> tuple[bool, int | None]:
        """Which place a person would fill: (True, reservation id or None for general) or (False, None)."""
        for pool in self.pools_for(agency_id, sector_id):
            if pool.left > 0:
                return True, pool.reservation_id
        if self.general_left > 0:
            return True, GENERAL
        return False, None


def release_moment(session: Session) -> datetime | None:
    if session.starts_at is None:
        return None
    return session.starts_at - timedelta(days=session.reservation_release_days)


def is_released(session: Session, now: datetime | None = None) -> bool:
    """True once unused reserved places have become general places."""
    moment = release_moment(session)
    return moment is not None and (now or utcnow()) >= moment


def held_places(session_ids: Iterable[int]) -> dict[tuple[int, int | None], int]:
    """Places held now, by (session id, reservation id or None for general places)."""
    taken: dict[tuple[int, int | None], int] = defaultdict(int)
    for session_id, reservation_id, count in db.session.execute(
        select(Booking.session_id, Booking.reservation_id, func.count())
        .where(Booking.session_id.in_(list(session_ids)), Booking.status.in_(HOLDS_PLACE))
        .group_by(Booking.session_id, Booking.reservation_id)
    ):
        taken[(session_id, reservation_id)] = count
    return taken


def places_held_count() -> ColumnElement[int]:
    """The number of places held on the session of the enclosing query (a correlated count)."""
    return (
        select(func.count()).select_from(Booking)
        .where(Booking.session_id == Session.id, Booking.status.in_(HOLDS_PLACE))
        .scalar_subquery()
    )


def _reservations(sessions: list[Session], ids: list[int]) -> list[Reservation]:
    """The sessions' reserved places: as loaded with them when this transaction has held the only
    write lock since they were read (SQLite), otherwise read again (an administrator may have
    changed them since the sessions were loaded)."""
    if holds_write_lock() and all(
            "reservations" not in sa_inspect(s).unloaded and not sa_inspect(s).expired_attributes
            for s in sessions):
        return sorted((r for s in sessions for r in s.reservations), key=lambda r: r.id)
    return list(db.session.scalars(
        select(Reservation).where(Reservation.session_id.in_(ids)).order_by(Reservation.id)))


def availability_for(sessions: Iterable[Session], now: datetime | None = None) -> dict[int, Availability]:
    """Places on each session, from two grouped queries whatever the number of sessions."""
    sessions = list(sessions)
    if not sessions:
        return {}
    ids = [s.id for s in sessions]
    taken = held_places(ids)
    reservations: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in _reservations(sessions, ids):
        reservations[reservation.session_id].append(reservation)
    now = now or utcnow()
    return {s.id: _availability(s, reservations.get(s.id, []), taken, now) for s in sessions}


def _held(*where) -> ColumnElement[int]:
    return (select(func.count()).select_from(Booking)
            .where(Booking.session_id == SESSION_ID, Booking.status.in_(HOLDS_PLACE), *where)
            .scalar_subquery())


_HELD_GENERAL = _held(Booking.reservation_id.is_(None))


def _in_order(session: Session) -> list[Reservation]:
    """The session's reservations as loaded, in id order: the nth is counted by the nth fact."""
    return sorted(session.reservations, key=lambda r: r.id)
_held_in: list[ColumnElement[int]] = []  # the nth reservation's, built once each


def held_place_facts(session: Session) -> tuple[dict[str, ColumnElement[int]], dict[str, int]]:
    """Places held on the session in general and in each of its reservations (as loaded with it),
    as facts to read with who may book in one statement (`ask_eligibility(also=...)`), and the
    values of their parameters; `availability_from_facts` reads the answer."""
    facts, values = {"held_general": _HELD_GENERAL}, {}
    for n, reservation in enumerate(_in_order(session)):
        while len(_held_in) <= n:
            _held_in.append(_held(Booking.reservation_id == bindparam(f"fact_reservation_{len(_held_in)}")))
        facts[f"held_in_{n}"] = _held_in[n]
        values[f"fact_reservation_{n}"] = reservation.id
    return facts, values


def availability_from_facts(session: Session, facts: dict, now: datetime | None = None) -> Availability:
    """Places on the session from `held_place_facts` read with its reservations as loaded."""
    reservations = _in_order(session)
    taken = {(session.id, r.id): facts[f"held_in_{n}"] for n, r in enumerate(reservations)}
    taken[(session.id, None)] = facts["held_general"]
    return _availability(session, reservations, taken, now or utcnow())


def _availability(session: Session, reservations: list[Reservation],
                  taken: dict[tuple[int, int | None], int], now: datetime) -> Availability:
    pools = [Pool(reservation_id=r.id, label=r.label, places=r.places, taken=taken.get((session.id, r.id), 0),
                  sector_id=r.sector_id, agency_id=r.agency_id) for r in reservations]
    released = is_released(session, now)
    availability = Availability(session_id=session.id, capacity=session.capacity, released=released,
                                general_taken=taken.get((session.id, None), 0), pools=pools)
    if released:
        # After release the pools no longer hold places: count their bookings as general.
        availability.general_taken += sum(p.taken for p in availability.pools)
        for pool in availability.pools:
            pool.taken = 0
            pool.places = 0
    return availability


def booking_state(session: Session, availability: Availability, now: datetime | None = None) -> str:
    """The state shown on the programme: open, few places, full (waiting list), closed..."""
    now = now or utcnow()
    if session.status == CANCELLED:
        return SESSION_CANCELLED
    if session.status != PUBLISHED or (session.starts_at and session.starts_at <= now):
        return CLOSED
    if session.booking_opens_at and now < session.booking_opens_at:
        return NOT_OPEN
    if session.booking_closes_at and now >= session.booking_closes_at:
        return CLOSED
    if availability.left == 0:
        return FULL
    if availability.left <= FEW_PLACES:
        return FEW
    return OPEN


class ProgrammeBookingFacts:
    """The programme's questions about bookings, answered here (see app/courses/availability.py)."""

    def places(self, sessions: Iterable[Session], now: datetime | None = None) -> dict[int, Places]:
        sessions = list(sessions)
        now = now or utcnow()
        availability = availability_for(sessions, now)
        result = {}
        for session in sessions:
            places = availability[session.id]
            state = booking_state(session, places, now)
            result[session.id] = Places(
                taken=places.taken, left=places.left, state=state, state_label=STATE_LABELS[state],
                state_class=STATE_TAG_CLASSES[state], bookable=state in BOOKABLE_STATES,
                release_at=release_moment(session), detail=places,
            )
        return result

    def has_places_left(self) -> ColumnElement[bool]:
        return Session.capacity > places_held_count()

    def held_by_reservation(self, session: Session) -> dict[int | None, int]:
        if session.id is None:
            return {}
        return {reservation_id: count for (_, reservation_id), count in held_places([session.id]).items()}

    def reservations_in_use(self, reservation_ids: Iterable[int]) -> set[int]:
        ids = list(reservation_ids)
        if not ids:
            return set()
        return set(db.session.scalars(
            select(Booking.reservation_id).where(Booking.reservation_id.in_(ids)).distinct()
        ))

    def has_bookings(self, session: Session) -> bool:
        return session.id is not None and db.session.scalar(
            select(Booking.id).where(Booking.session_id == session.id).limit(1)
        ) is not None

    def active_bookers_outside(self, session: Session, agency_id: int) -> int:
        if session.id is None:
            return 0
        return db.session.scalar(
            select(func.count()).select_from(Booking).join(User, User.id == Booking.user_id)
            .where(Booking.session_id == session.id, Booking.status.in_(ACTIVE_STATES),
                   or_(User.agency_id.is_(None), User.agency_id != agency_id))
        ) or 0

    def has_completions(self, course: Course) -> bool:
        return db.session.scalar(
            select(Completion.id).where(Completion.course_id == course.id).limit(1)
        ) is not None

    def people_with_place_on(self, course: Course, user_ids: Iterable[int]) -> set[int]:
        ids = list(user_ids)
        if not ids:
            return set()
        return set(db.session.scalars(
            select(Booking.user_id).join(Session, Booking.session_id == Session.id)
            .where(Session.course_id == course.id, Session.starts_at > utcnow(),
                   Booking.status.in_(HOLDS_PLACE), Booking.user_id.in_(ids))
        ))

    def booking_refusal(self, session: Session, person: User) -> str | None:
        return eligibility_problem(session, person)

    def workshop_places_taken(self, item_ids: Iterable[int]) -> dict[int, int]:
        # Imported here: workshops counts with this module's states and is imported after it.
        from app.bookings.workshops import workshop_places_taken

        return workshop_places_taken(item_ids)


register_booking_facts(ProgrammeBookingFacts())
