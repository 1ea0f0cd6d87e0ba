"""Bookings: a person's place on a session, its history, and completed training.

A booking's state (where it is in booking) and its attendance outcome (what happened on the day)
are kept apart; every change to either is a BookingEvent row.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Agency, User
from app.clock import utcnow
from app.courses.models import Course, ProgrammeItem, Reservation, Session
from app.extensions import db

# Booking states.
AWAITING_APPROVAL = "awaiting_approval"  # holds a place until the line manager answers
CONFIRMED = "confirmed"
WAITING = "waiting"  # on the waiting list; holds no place
CANCELLED = "cancelled"
DECLINED = "declined"  # the line manager said no
LAPSED = "lapsed"  # the line manager did not answer in time
TRANSFERRED = "transferred"  # the place went to a colleague
OFFERED = "offered"  # a freed place held for a waiting person until they accept or the offer expires
HOLDS_PLACE = (AWAITING_APPROVAL, CONFIRMED, OFFERED)
ACTIVE_STATES = (AWAITING_APPROVAL, CONFIRMED, WAITING, OFFERED)
# What coordinators, trainers and the L&D team read about someone's booking.
STATE_LABELS = {
    AWAITING_APPROVAL: "Awaiting manager’s agreement",
    CONFIRMED: "Booked",
    WAITING: "Waiting list",
    CANCELLED: "Cancelled",
    DECLINED: "Declined by manager",
    LAPSED: "Lapsed (no manager answer)",
    TRANSFERRED: "Passed to a colleague",
    OFFERED: "Offered a place",
}
# What the person reads about their own booking.
OWN_STATE_LABELS = {
    **STATE_LABELS,
    AWAITING_APPROVAL: "Awaiting your manager",
    DECLINED: "Declined by your manager",
    LAPSED: "Lapsed (your manager did not answer)",
    OFFERED: "Place offered to you",
}

# Attendance outcomes (set by the register).
ATTENDED = "attended"
PARTLY_ATTENDED = "partly_attended"
DID_NOT_ATTEND = "did_not_attend"
TURNED_AWAY = "turned_away"
OUTCOME_LABELS = {
    ATTENDED: "Attended",
    PARTLY_ATTENDED: "Partly attended",
    DID_NOT_ATTEND: "Did not attend",
    TURNED_AWAY: "Turned away (late)",
}
PRESENT_OUTCOMES = (ATTENDED, PARTLY_ATTENDED)

# Completion sources and the L&D team's decision on learning done elsewhere.
ATTENDANCE = "attendance"
SELF_RECORDED = "self_recorded"  # an online course here, recorded by the person
PRIOR_LEARNING = "prior_learning"  # equivalent learning done elsewhere, e.g. with their own agency
E_LEARNING_IMPORT = "e_learning_import"  # an online course, from the e-learning provider's export
ACCEPTED = "accepted"
REJECTED = "rejected"


class Booking(db.Model):
    __tablename__ = "bookings"
    # One row per person per session; booking again after cancelling reuses it (history keeps all).
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The person's agency when they booked: charges and reports follow it if they move.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # The reserved place this booking fills; None for a general place (or no place).
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    waiting_since: Mapped[datetime | None]  # the waiting list's order
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    overbooked: Mapped[bool] = mapped_column(default=False)  # an administrator went over capacity
    access_needs: Mapped[str] = mapped_column(Text, default="")
    # The manager asked to agree (copied at booking time: the person may change manager later).
    manager_email: Mapped[str] = mapped_column(String(255), default="")
    approval_requested_at: Mapped[datetime | None]
    approval_due_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    # An offered place (OFFERED) is held for them until then (never past the start).
    offer_expires_at: Mapped[datetime | None]
    # When the place was last confirmed: reminders skip people who were told moments ago.
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    late_cancellation: Mapped[bool] = mapped_column(default=False)
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_marked_at: Mapped[datetime | None]
    outcome_marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    walk_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[Session] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    agency: Mapped[Agency | None] = relationship()
    reservation: Mapped[Reservation | None] = relationship()
    booked_by: Mapped[User | None] = relationship(foreign_keys=[booked_by_id])
    events: Mapped[list[BookingEvent]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingEvent.id"
    )
    workshop_choices: Mapped[list[WorkshopChoice]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="WorkshopChoice.id"
    )

    @property
    def holds_place(self) -> bool:
        return self.status in HOLDS_PLACE

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.status, self.status)

    @property
    def own_state_label(self) -> str:
        return OWN_STATE_LABELS.get(self.status, self.status)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome or "", "")


class WorkshopChoice(db.Model):
    """A workshop a booking has chosen at a conference (at most one per time slot)."""

    __tablename__ = "workshop_choices"
    __table_args__ = (UniqueConstraint("booking_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("programme_items.id"), index=True)
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="workshop_choices")
    item: Mapped[ProgrammeItem] = relationship()


class BookingEvent(db.Model):
    """One change to a booking: who, when, from what to what, and why."""

    __tablename__ = "booking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    from_outcome: Mapped[str | None] = mapped_column(String(20))
    to_outcome: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")

    booking: Mapped[Booking] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Completion(db.Model):
    """A course completed: from attendance here, recorded by the person (online courses), or
    equivalent learning done elsewhere (prior learning), which counts only once the L&D team accepts it."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    completed_on: Mapped[date]
    # ATTENDANCE, SELF_RECORDED, PRIOR_LEARNING or E_LEARNING_IMPORT
    source: Mapped[str] = mapped_column(String(20))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    evidence: Mapped[str] = mapped_column(Text, default="")  # e.g. the e-learning certificate number
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # L&D team check
    checked_at: Mapped[datetime | None]
    # Prior learning: who provided it, and the L&D team's decision (None until checked).
    provider: Mapped[str] = mapped_column(String(200), default="")
    check_result: Mapped[str | None] = mapped_column(String(20))
    check_note: Mapped[str] = mapped_column(Text, default="")  # why it was not accepted
    # An uploaded certificate (PDF, PNG or JPEG), kept in the database so only the app serves it.
    certificate_name: Mapped[str] = mapped_column(String(255), default="")
    certificate_type: Mapped[str] = mapped_column(String(50), default="")
    certificate_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int | None]  # an e-learning provider's score, per cent, where its export gives one

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship()
    booking: Mapped[Booking | None] = relationship()

    @hybrid_property
    def counts(self) -> bool:
        """True when it counts for prerequisites and refreshers (prior learning only once accepted)."""
        return self.source != PRIOR_LEARNING or self.check_result == ACCEPTED

    @counts.inplace.expression
    @classmethod
    def _counts_expression(cls):
        return or_(cls.source != PRIOR_LEARNING, cls.check_result == ACCEPTED)
