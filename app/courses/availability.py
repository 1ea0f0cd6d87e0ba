"""What the programme needs to know about bookings, without importing the bookings domain.

Courses sit to the left of bookings in the chain (accounts <- courses <- bookings), yet the
programme shows places left and whether a person may book, and the session rules refuse a change
that the bookings a session holds would not survive (fewer places than people booked, deleting a
session or course that people booked or completed). So courses declares here the few facts it
asks for, as one small protocol, and the bookings domain registers its answer when it is imported
(app/bookings/places.py, the one home of counting places; it is imported with the bookings views
whenever the app is created). One registration keeps every question in one place, readable
together; the alternative, moving the session page's booking panel to the bookings domain, would
still leave the session rules needing the counts.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement

from app.accounts.models import User
from app.courses.models import Course, Session


@dataclass
class Places:
    """Places on one session and the state the programme shows for it."""

    taken: int
    left: int
    state: str  # open, few, full, closed, not_open or cancelled
    state_label: str
    state_class: str  # the GOV.UK tag colour for the state
    bookable: bool  # open, few places or waiting list
    release_at: datetime | None  # when unused reserved places become open to everyone
    detail: Any  # the bookings domain's own figures: reserved pools, places left for a person

    def left_for(self, agency_id: int | None, sector_id: int | None) -> int:
        """Places a person of this agency and sector could fill."""
        return self.detail.left_for(agency_id, sector_id)


class BookingFacts(Protocol):
    """The answers the bookings domain gives the programme."""

    def places(self, sessions: Sequence[Session], now: datetime | None = None) -> dict[int, Places]:
        """Places on each session (by id), in a fixed number of queries."""

    def has_places_left(self) -> ColumnElement[bool]:
        """A condition on Session: fewer places held than the session's capacity."""

    def held_by_reservation(self, session: Session) -> dict[int | None, int]:
        """Places held now on the session, by reservation id (None: general places)."""

    def reservations_in_use(self, reservation_ids: Sequence[int]) -> set[int]:
        """The reservations any booking (past or present) points at."""

    def has_bookings(self, session: Session) -> bool:
        """True when anybody has ever booked the session."""

    def active_bookers_outside(self, session: Session, agency_id: int) -> int:
        """How many people not of this agency hold, or wait for, a place on the session now."""

    def has_completions(self, course: Course) -> bool:
        """True when anybody has completed the course."""

    def booking_refusal(self, session: Session, person: User) -> str | None:
        """Why the person could not book the session now, or None."""

    def people_with_place_on(self, course: Course, user_ids: Sequence[int]) -> set[int]:
        """Those of these people holding a place on an upcoming session of the course."""


    def workshop_places_taken(self, item_ids: Sequence[int]) -> dict[int, int]:
        """Places taken on each conference workshop (by programme item id)."""


_registered: list[BookingFacts] = []


def register_booking_facts(provider: BookingFacts) -> BookingFacts:
    """Give the programme its answers about bookings (the bookings domain calls this at import)."""
    _registered[:] = [provider]
    return provider


def booking_facts() -> BookingFacts:
    """The registered answers about bookings."""
    if not _registered:
        raise RuntimeError("No bookings registered: import app.bookings.places (create_app does)")
    return _registered[0]
