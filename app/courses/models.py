"""The programme: courses, their sessions (one or more dated parts), venues and reserved places."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
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
recommendation_courses = _pairs("recommendation_courses", "recommendation_id", "recommendations.id",
                                "course_id", "courses.id")
recommendation_sessions = _pairs("recommendation_sessions", "recommendation_id", "recommendations.id",
                                 "session_id", "sessions.id")
trainer_courses = _pairs("trainer_courses", "trainer_profile_id", "trainer_profiles.id", "course_id", "courses.id")


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
    # A freed place is offered to the first waiting person for `offer_hours`, instead of given outright.
    uses_offers: Mapped[bool] = mapped_column(default=False, server_default="0")
    offer_hours: Mapped[int] = mapped_column(default=24, server_default="24")
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
    # Deleting a course entered by mistake takes its links to recommendations with it.
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=recommendation_courses, back_populates="courses")
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
    # When it was (first) published: people interested in the course are told of sessions published since.
    published_at: Mapped[datetime | None]
    # A closed session (a bespoke package for one agency): off the public programme, seen and
    # booked only by that agency's staff and the L&D team; its attendance still counts in reports.
    closed_to_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="sessions")
    venue: Mapped[Venue | None] = relationship()
    closed_to_agency: Mapped[Agency | None] = relationship()
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
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=recommendation_sessions, back_populates="sessions")
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


class CourseInterest(db.Model):
    """A person asking to be told when new sessions of a course are published (no date yet, or all full)."""

    __tablename__ = "course_interests"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship()


class RemovedPart(NamedTuple):
    """A session part a change took away: what its cancellation needs."""

    uid: str
    starts_at: datetime
    ends_at: datetime


# --- Why courses exist: reviews, audits and their recommendations (issue 17) ---------------------

# Kinds of learning source.
SERIOUS_CASE_REVIEW = "scr"
AUDIT = "audit"
SECTION_11 = "section_11"
OTHER_SOURCE = "other"
SOURCE_KINDS = {
    SERIOUS_CASE_REVIEW: "Serious case review",
    AUDIT: "Audit",
    SECTION_11: "Section 11 finding",
    OTHER_SOURCE: "Other review",
}

# A recommendation's status.
OPEN = "open"
IN_PROGRESS = "in_progress"
MET = "met"
RECOMMENDATION_STATUSES = {OPEN: "Open", IN_PROGRESS: "In progress", MET: "Met"}


class LearningSource(db.Model):
    """A serious case review, audit or Section 11 finding whose recommendations training answers."""

    __tablename__ = "learning_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))  # anonymised, as published: "Child R"
    # Until it is published (and from that day) nothing names it outside administration.
    published_on: Mapped[date | None]
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="source", order_by="Recommendation.number", cascade="all, delete-orphan")
    events: Mapped[list[LearningSourceEvent]] = relationship(
        back_populates="source", order_by="LearningSourceEvent.id", cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return SOURCE_KINDS.get(self.kind, self.kind)

    def is_public(self, today: date) -> bool:
        return self.published_on is not None and self.published_on <= today


class Recommendation(db.Model):
    """One numbered recommendation of a source, and the courses and sessions that answer it."""

    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("source_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("learning_sources.id"), index=True)
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[LearningSource] = relationship(back_populates="recommendations")
    courses: Mapped[list[Course]] = relationship(
        secondary=recommendation_courses, back_populates="recommendations", order_by="Course.title")
    sessions: Mapped[list[Session]] = relationship(
        secondary=recommendation_sessions, back_populates="recommendations", order_by="Session.starts_at")

    @property
    def status_label(self) -> str:
        return RECOMMENDATION_STATUSES.get(self.status, self.status)

    @property
    def label(self) -> str:
        return f"Recommendation {self.number} of {self.source.title}"


class LearningSourceEvent(db.Model):
    """One line of a source's history: what changed in it or its recommendations, by whom, when."""

    __tablename__ = "learning_source_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("learning_sources.id"), index=True)
    recommendation_number: Mapped[int | None]  # kept as a number: the recommendation may go
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[LearningSource] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
# The weekdays a trainer usually works, as digits (0 Monday ... 6 Sunday).
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Provider(db.Model):
    """An organisation commissioned to deliver training, with its contract."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The organisation's contact for the contract (a business contact, kept while the provider is).
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    contract_reference: Mapped[str] = mapped_column(String(100), default="")
    contract_starts_on: Mapped[date | None]
    contract_ends_on: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)

    trainers: Mapped[list[TrainerProfile]] = relationship(back_populates="provider")


class TrainerProfile(db.Model):
    """A person in the trainer pool: internal, or from a provider; what they deliver and when."""

    __tablename__ = "trainer_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)  # None: internal
    working_days: Mapped[str] = mapped_column(String(7), default="01234")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    provider: Mapped[Provider | None] = relationship(back_populates="trainers")
    courses: Mapped[list[Course]] = relationship(secondary=trainer_courses, order_by="Course.title")
    unavailability: Mapped[list[TrainerUnavailability]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="TrainerUnavailability.starts_on"
    )

    @property
    def working_day_names(self) -> list[str]:
        return [WEEKDAYS[int(d)] for d in self.working_days]


class TrainerUnavailability(db.Model):
    """Dates a trainer cannot train (leave, other work), first and last day inclusive."""

    __tablename__ = "trainer_unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("trainer_profiles.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")

    profile: Mapped[TrainerProfile] = relationship(back_populates="unavailability")
