"""What attendance sets off: charges to agencies, booking suspensions and certificates; and the
training agencies run themselves (single-agency training), which counts beside it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Agency, User
from app.bookings.models import Booking
from app.clock import utcnow
from app.courses.models import Course, Level, Session
from app.extensions import db

# Why a charge was raised.
CHARGE_DID_NOT_ATTEND = "did_not_attend"
CHARGE_TURNED_AWAY = "turned_away"
CHARGE_LATE_CANCELLATION = "late_cancellation"
CHARGE_REASON_LABELS = {
    CHARGE_DID_NOT_ATTEND: "Did not attend",
    CHARGE_TURNED_AWAY: "Turned away (late)",
    CHARGE_LATE_CANCELLATION: "Late cancellation",
}

# Where a charge stands.
CHARGE_DUE = "due"  # to be invoiced to the agency
CHARGE_WAIVED = "waived"  # an administrator waived it, with a reason
CHARGE_VOID = "void"  # the reason went away (the outcome was corrected to attended)
CHARGE_STATUS_LABELS = {CHARGE_DUE: "Due", CHARGE_WAIVED: "Waived", CHARGE_VOID: "Void"}


class Charge(db.Model):
    """A charge to a booking's agency for a no-show, a late arrival turned away or a late cancellation.

    One row per booking (per session): a correction voids it and a new no-show revives it, so the
    statement never counts a booking twice.
    """

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    # The agency at booking time (booking.agency_id): the one invoiced.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    reason: Mapped[str] = mapped_column(String(20))
    amount_pence: Mapped[int]
    # The session's first day (UK date): statements are by period of this date.
    incurred_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10), default=CHARGE_DUE, index=True)
    waiver_reason: Mapped[str] = mapped_column(Text, default="")
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waived_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    # When the agency's payment of a due charge was recorded; the charge stays due in statements.
    paid_at: Mapped[datetime | None]
    paid_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    booking: Mapped[Booking] = relationship()
    agency: Mapped[Agency | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    session: Mapped[Session] = relationship()
    course: Mapped[Course] = relationship()
    waived_by: Mapped[User | None] = relationship(foreign_keys=[waived_by_id])

    @property
    def reason_label(self) -> str:
        return CHARGE_REASON_LABELS.get(self.reason, self.reason)

    @property
    def status_label(self) -> str:
        return CHARGE_STATUS_LABELS.get(self.status, self.status)


class Suspension(db.Model):
    """A person may not book from `starts_on` until (not including) `until`, unless lifted."""

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_on: Mapped[date]
    until: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")
    # The latest no-show this suspension counted: a later suspension counts only newer ones.
    last_no_show_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    def is_active_on(self, day: date) -> bool:
        return self.lifted_at is None and self.starts_on <= day < self.until


class Certificate(db.Model):
    """The verification code of a booking's certificate of attendance (made on first release)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    booking: Mapped[Booking] = relationship()


# Where an uploaded e-learning completions file stands.
UPLOAD_PENDING = "pending"
UPLOAD_APPLIED = "applied"
UPLOAD_DISCARDED = "discarded"


class CompletionUpload(db.Model):
    """An e-learning provider's completions export, held between its preview and applying it.

    `rows_json` holds the file's rows (names and e-mail addresses, some of people with no account)
    only while it waits: applying or discarding it empties it, and so does the daily job a week on.
    """

    __tablename__ = "completion_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    rows_json: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(20), default=UPLOAD_PENDING)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    # What applying it did, kept as counts once the rows are gone.
    recorded: Mapped[int] = mapped_column(default=0)
    accounts_opened: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)

    uploaded_by: Mapped[User] = relationship()
class SessionMaterial(db.Model):
    """A file a session's trainers give the people booked before the course (session material)."""

    __tablename__ = "session_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    # Who uploaded it; emptied when that person is erased (the file is the session's, not theirs).
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]  # first sent to the people booked

    session: Mapped[Session] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
class SingleAgencyTraining(db.Model):
    """Training an agency ran for its own staff, recorded by its coordinator so the board sees the
    whole picture. It counts in the attendees' training records and against the training needs
    analysis where its level (or the course it is equivalent to) matches, and is reported on its
    own line, never mixed into the multi-agency figures."""

    __tablename__ = "single_agency_trainings"
    __table_args__ = (
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("others_count >= 0", name="others_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)  # equivalent to
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"), index=True)
    held_on: Mapped[date] = mapped_column(index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    delivered_by: Mapped[str] = mapped_column(String(200), default="")
    # People who attended without an account here: a count only, no names.
    others_count: Mapped[int] = mapped_column(default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()
    course: Mapped[Course | None] = relationship()
    level: Mapped[Level | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    attendees: Mapped[list[SingleAgencyAttendee]] = relationship(
        back_populates="training", cascade="all, delete-orphan", order_by="SingleAgencyAttendee.id")

    @property
    def people(self) -> int:
        return len(self.attendees) + self.others_count


class SingleAgencyAttendee(db.Model):
    """A person with an account who attended single-agency training."""

    __tablename__ = "single_agency_attendees"
    __table_args__ = (UniqueConstraint("training_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("single_agency_trainings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    training: Mapped[SingleAgencyTraining] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship()
