"""The programme: courses, their sessions (one or more dated parts), venues and reserved places."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Agency, Sector, User
from app.clock import utcnow
from app.extensions import db

# Session states.
DRAFT = "draft"
PUBLISHED = "published"
CANCELLED = "cancelled"


def _pairs(name: str, left: str, left_key: str, right: str, right_key: str) -> Table:
    """A table of pairs linking two tables (a many-to-many relationship)."""
    return Table(
        name,
        db.metadata,
        Column(left, ForeignKey(left_key), primary_key=True),
        Column(right, ForeignKey(right_key), primary_key=True),
    )


course_themes = _pairs("course_themes", "course_id", "courses.id", "theme_id", "themes.id")
course_audience_sectors = _pairs("course_audience_sectors", "course_id", "courses.id", "sector_id", "sectors.id")
course_prerequisites = _pairs("course_prerequisites", "course_id", "courses.id", "prerequisite_id", "courses.id")
session_trainers = _pairs("session_trainers", "session_id", "sessions.id", "user_id", "users.id")


class Level(db.Model):
    """The partnership's own level, mapped to the Intercollegiate Document's level (data)."""

    __tablename__ = "levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    intercollegiate_level: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(default=0)


class Theme(db.Model):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    learning_outcomes: Mapped[str] = mapped_column(Text, default="")
    audience_roles: Mapped[str] = mapped_column(Text, default="")  # job roles it is for, free text
    grew_from: Mapped[str] = mapped_column(Text, default="")  # an SCR, an audit, a national case
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"), index=True)
    duration_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # Online courses (e-learning) are completed by the person recording it, not booked.
    is_online: Mapped[bool] = mapped_column(default=False)
    refresher_months: Mapped[int | None]
    # Completing this course restarts the refresher clock of another (Level 3 Refresher renews Level 3).
    renews_course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    requires_manager_approval: Mapped[bool] = mapped_column(default=True)
    cancellation_notice_days: Mapped[int] = mapped_column(default=5)  # working days
    non_attendance_charge_pence: Mapped[int] = mapped_column(default=0)
    evaluation_delay_months: Mapped[int] = mapped_column(default=3)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    level: Mapped[Level | None] = relationship()
    themes: Mapped[list[Theme]] = relationship(secondary=course_themes, order_by="Theme.name")
    audience_sectors: Mapped[list[Sector]] = relationship(
        secondary=course_audience_sectors, order_by="Sector.position"
    )
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.prerequisite_id,
        order_by="Course.title",
    )
    sessions: Mapped[list[Session]] = relationship(back_populates="course")
    renews: Mapped[Course | None] = relationship(remote_side=lambda: Course.id)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class Venue(db.Model):
    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    access_information: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)


class Session(db.Model):
    """One run of a course."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"))
    online_url: Mapped[str] = mapped_column(String(500), default="")  # sent to confirmed people only
    capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    booking_opens_at: Mapped[datetime | None]
    booking_closes_at: Mapped[datetime | None]
    # Reserved places not taken this many days before the start become general places.
    reservation_release_days: Mapped[int] = mapped_column(default=14)
    joining_instructions: Mapped[str] = mapped_column(Text, default="")
    external_trainers: Mapped[str] = mapped_column(String(500), default="")
    # A conference: people choose its workshops (ProgrammeItem rows) until this moment.
    choices_close_at: Mapped[datetime | None]
    # Denormalised from the parts so lists and filters need no join (kept by services).
    starts_at: Mapped[datetime | None] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    # Raised on every change people booked would care about; becomes the iCalendar SEQUENCE.
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="sessions")
    venue: Mapped[Venue | None] = relationship()
    parts: Mapped[list[SessionPart]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionPart.starts_at"
    )
    trainers: Mapped[list[User]] = relationship(secondary=session_trainers, order_by="User.name")
    reservations: Mapped[list[Reservation]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    changes: Mapped[list[SessionChange]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionChange.at"
    )
    programme: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="session", cascade="all, delete-orphan",
        order_by="(ProgrammeItem.starts_at, ProgrammeItem.id)",
    )

    @property
    def is_online(self) -> bool:
        return self.venue_id is None and bool(self.online_url)

    @property
    def workshops(self) -> list[ProgrammeItem]:
        return [item for item in self.programme if item.kind == WORKSHOP]

    @property
    def is_conference(self) -> bool:
        """A session with workshops to choose from (plenaries alone are just its timetable)."""
        return bool(self.workshops)


# Programme items of a conference.
PLENARY = "plenary"
WORKSHOP = "workshop"


class ProgrammeItem(db.Model):
    """One item of a conference's programme: a plenary everyone attends, or one of the parallel
    workshops of a time slot (the workshops starting at the same moment), each with its own places."""

    __tablename__ = "programme_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # PLENARY or WORKSHOP
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(200))
    # Speakers of a plenary, or who leads a workshop (names and roles as printed on the programme).
    leads: Mapped[str] = mapped_column(String(500), default="")
    room: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int | None]  # workshops only

    session: Mapped[Session] = relationship(back_populates="programme")

    @property
    def is_workshop(self) -> bool:
        return self.kind == WORKSHOP


class SessionPart(db.Model):
    """One dated part of a session (a two-day course has two)."""

    __tablename__ = "session_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]

    session: Mapped[Session] = relationship(back_populates="parts")


class Reservation(db.Model):
    """Places held for one sector or one agency until the release date."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    places: Mapped[int]

    session: Mapped[Session] = relationship(back_populates="reservations")
    sector: Mapped[Sector | None] = relationship()
    agency: Mapped[Agency | None] = relationship()

    @property
    def label(self) -> str:
        return self.agency.name if self.agency else (self.sector.name if self.sector else "")


class SessionChange(db.Model):
    """A change to a published session that people booked must be told about."""

    __tablename__ = "session_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # "time", "venue", "cancelled"
    detail: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(default=0)  # the session's sequence after the change
    # Parts the change took away, as JSON [{"uid", "starts_at", "ends_at"}]: their rows are gone,
    # but the people invited to them still need a cancellation that names each one.
    removed_parts: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]  # set by the bookings side once people are told

    session: Mapped[Session] = relationship(back_populates="changes")

    @property
    def parts_removed(self) -> list[RemovedPart]:
        return [RemovedPart(p["uid"], datetime.fromisoformat(p["starts_at"]), datetime.fromisoformat(p["ends_at"]))
                for p in json.loads(self.removed_parts or "[]")]


class RemovedPart(NamedTuple):
    """A session part a change took away: what its cancellation needs."""

    uid: str
    starts_at: datetime
    ends_at: datetime
