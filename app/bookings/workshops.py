"""Conference workshops: a person with a place chooses one workshop in each time slot.

A slot is the workshops that start at the same moment. Each workshop has its own places, guarded
like a session's: the chosen workshops' rows are locked (app/locking.py, in id order) and their
places re-counted before a choice is kept. Only bookings that hold a place on the conference hold
a workshop place, so a cancelled booking frees its workshops without another step. Choices can be
changed until the session's `choices_close_at`; every change is a row in the booking's history.
Where the session keeps places for sectors or agencies, each workshop keeps the same share for the
people who fill those places, until the session's reserved places are released.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.accounts.models import ADMIN, User
from app.bookings.errors import BookingError
from app.bookings.models import HOLDS_PLACE, Booking, BookingEvent, WorkshopChoice
from app.bookings.places import is_released, release_moment
from app.clock import to_london, utcnow
from app.courses.models import WORKSHOP, ProgrammeItem, Session
from app.extensions import db
from app.locking import lock_rows
from app.templating import format_datetime


@dataclass
class Slot:
    """The workshops of one time slot, and the places left on each."""

    starts_at: datetime
    ends_at: datetime
    workshops: list[ProgrammeItem]
    left: dict[int, int]  # places left by workshop id

    @property
    def key(self) -> str:
        return f"slot-{self.starts_at:%Y%m%d%H%M}"


def workshop_places_taken(item_ids: Iterable[int]) -> dict[int, int]:
    """Places taken on each workshop (by id): choices of bookings that hold a place."""
    ids = list(item_ids)
    if not ids:
        return {}
    taken = dict.fromkeys(ids, 0)
    for item_id, count in db.session.execute(
        select(WorkshopChoice.item_id, func.count()).join(Booking, WorkshopChoice.booking_id == Booking.id)
        .where(WorkshopChoice.item_id.in_(ids), Booking.status.in_(HOLDS_PLACE))
        .group_by(WorkshopChoice.item_id)
    ):
        taken[item_id] = count
    return taken


def _taken_by_pool(item_id: int) -> dict[int | None, int]:
    """Places taken on a workshop by the reserved place (session reservation id, None: general)
    each chooser's booking fills."""
    return dict(db.session.execute(
        select(Booking.reservation_id, func.count()).join(WorkshopChoice, WorkshopChoice.booking_id == Booking.id)
        .where(WorkshopChoice.item_id == item_id, Booking.status.in_(HOLDS_PLACE))
        .group_by(Booking.reservation_id)
    ).all())


def workshop_pools(item: ProgrammeItem) -> dict[int, int]:
    """A workshop's places reserved for each of the session's reserved pools (by reservation id):
    the same share of the workshop as the pool has of the session, so the mix the quotas keep at
    the event is kept in each room too, until the session's reserved places are released."""
    session = item.session
    if not session.capacity or is_released(session):
        return {}
    return {r.id: (item.capacity or 0) * r.places // session.capacity
            for r in session.reservations if r.places and r.id is not None}


def workshop_place_for(item: ProgrammeItem, booking: Booking) -> bool:
    """Whether the booking's person may take a place at the workshop now: one of the reserved
    places kept for the pool their conference place fills, or a general one."""
    taken = _taken_by_pool(item.id)
    capacity = item.capacity or 0
    if sum(taken.values()) >= capacity:
        return False
    pools = workshop_pools(item)
    if not pools:
        return True
    overflow = sum(max(taken.get(r, 0) - places, 0) for r, places in pools.items())
    general_left = capacity - sum(pools.values()) - taken.get(None, 0) - overflow
    own = booking.reservation_id
    if own in pools and taken.get(own, 0) < pools[own]:
        return True
    return general_left > 0


def slots(session: Session) -> list[Slot]:
    """The session's workshop slots in time order, with the places left on each workshop."""
    workshops = session.workshops
    taken = workshop_places_taken(w.id for w in workshops)
    grouped: dict[datetime, list[ProgrammeItem]] = defaultdict(list)
    for item in workshops:
        grouped[item.starts_at].append(item)
    return [
        Slot(starts_at, max(w.ends_at for w in items), items,
             {w.id: max((w.capacity or 0) - taken[w.id], 0) for w in items})
        for starts_at, items in sorted(grouped.items())
    ]


def choices_open(session: Session, now: datetime | None = None) -> bool:
    """Whether people may still choose or change their workshops."""
    now = now or utcnow()
    closes = session.choices_close_at or session.starts_at
    return closes is None or now < closes


def chosen_items(booking: Booking) -> list[ProgrammeItem]:
    """The workshops the booking has chosen, in time order."""
    return sorted((c.item for c in booking.workshop_choices), key=lambda i: (i.starts_at, i.id))


def choose_workshops(booking: Booking, item_ids: Sequence[int], actor: User) -> BookingEvent | None:
    """Keep `item_ids` as the booking's workshops (one per slot); return the history row, or None
    when nothing changed.

    Refused when choices have closed (administrators may still change them), the booking holds no
    place, a workshop is not on this conference, two are in one slot, or a workshop is full.
    """
    session = booking.session
    if not session.is_conference:
        raise BookingError("This session has no workshops to choose.")
    if booking.status not in HOLDS_PLACE:
        raise BookingError("You can choose workshops once you have a place at the event.")
    if not choices_open(session) and not actor.has_role(ADMIN):
        closes = session.choices_close_at or session.starts_at
        raise BookingError(f"Workshop choices closed on {format_datetime(closes)}. "
                           "Ask the L&D team if you need to change yours.")
    offered = {w.id: w for w in session.workshops}
    wanted = sorted(set(item_ids))
    if any(i not in offered for i in wanted):
        raise BookingError("A workshop you chose is not part of this event. Reload the page.")
    by_slot: dict[datetime, int] = {}
    for item_id in wanted:
        starts = offered[item_id].starts_at
        if starts in by_slot:
            raise BookingError(f"Choose one workshop at {format_datetime(starts)}.", f"slot-{starts:%Y%m%d%H%M}")
        by_slot[starts] = item_id
    current = {c.item_id: c for c in booking.workshop_choices}
    added = [i for i in wanted if i not in current]
    removed = [c for i, c in current.items() if i not in wanted]
    if not added and not removed:
        return None
    # Lock the workshops that gain a person and count again: the last place goes to one person.
    locked = lock_rows(ProgrammeItem, added)
    taken = workshop_places_taken(added)
    for item in locked:
        if item.kind != WORKSHOP:
            raise BookingError("A workshop you chose is not part of this event. Reload the page.")
        if taken[item.id] >= (item.capacity or 0):
            raise BookingError(f"{item.title} is full. Choose another workshop at "
                               f"{format_datetime(item.starts_at)}.", f"slot-{item.starts_at:%Y%m%d%H%M}")
        if not workshop_place_for(item, booking):
            raise BookingError(f"The places left at {item.title} are kept for other agencies or sectors until "
                               f"{format_datetime(release_moment(session))}. Choose another workshop at "
                               f"{format_datetime(item.starts_at)}.", f"slot-{item.starts_at:%Y%m%d%H%M}")
    now = utcnow()
    for choice in removed:
        booking.workshop_choices.remove(choice)
    for item_id in added:
        booking.workshop_choices.append(WorkshopChoice(item_id=item_id, chosen_at=now))
    titles = [offered[i].title for i in wanted]
    event = BookingEvent(
        booking=booking, actor_id=actor.id, at=now, from_status=booking.status, to_status=booking.status,
        from_outcome=booking.outcome, to_outcome=booking.outcome,
        reason="Workshops chosen: " + ("; ".join(titles) if titles else "none"),
    )
    db.session.add(event)
    booking.updated_at = now
    db.session.flush()
    return event


def programme_for(booking: Booking) -> list[ProgrammeItem]:
    """The person's own programme: every plenary and the workshops they chose, in time order."""
    chosen = {c.item_id for c in booking.workshop_choices}
    return [item for item in booking.session.programme if not item.is_workshop or item.id in chosen]


def programme_lines(booking: Booking) -> list[str]:
    """The person's programme as lines of text (for the invitation and e-mails)."""
    lines = []
    for item in programme_for(booking):
        start, end = to_london(item.starts_at), to_london(item.ends_at)
        where = f", {item.room}" if item.room else ""
        who = f" ({item.leads})" if item.leads else ""
        kind = "Workshop: " if item.is_workshop else ""
        lines.append(f"{start:%H:%M}–{end:%H:%M} {kind}{item.title}{who}{where}")
    return lines


def change_workshops(booking: Booking, item_ids: Sequence[int], actor: User) -> bool:
    """Change a booked person's workshops and send them their new programme; True if anything changed."""
    # Imported here: notifications builds invitations from this module's programme (a cycle at import).
    from app.bookings.notifications import notify_programme_changed

    event = choose_workshops(booking, item_ids, actor)
    if event is None:
        return False
    notify_programme_changed(booking, event)
    return True
