"""Training needs analyses (how many staff of each sector and agency need which training in a
period), their imports, and the reminders sent to coordinators about gaps."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Agency, Sector, User
from app.clock import utcnow
from app.courses.models import Course, Level
from app.extensions import db

__all__ = ["TrainingNeedsAnalysis", "TnaLine", "TnaImport", "GapReminder", "NeedsProposal", "NeedsProposalLine"]

# Import states.
PENDING = "pending"
APPLIED = "applied"
DISCARDED = "discarded"

# Needs proposal states (PENDING as above).
ACCEPTED = "accepted"
WITHDRAWN = "withdrawn"  # replaced by a later proposal from the same agency before a decision
PROPOSAL_STATE_LABELS = {PENDING: "Waiting for the L&D team", ACCEPTED: "Accepted", WITHDRAWN: "Replaced"}


class TrainingNeedsAnalysis(db.Model):
    """A period's training needs (a financial year, April to March, by default)."""

    __tablename__ = "training_needs_analyses"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list[TnaLine]] = relationship(
        back_populates="tna", cascade="all, delete-orphan", order_by="TnaLine.id"
    )
    imports: Mapped[list[TnaImport]] = relationship(
        back_populates="tna", order_by="TnaImport.id.desc()"
    )


class TnaLine(db.Model):
    """How many of a sector's (or one agency's) staff need one course, or any course at a level."""

    __tablename__ = "tna_lines"
    __table_args__ = (
        # Columns that may be NULL never collide in a unique constraint, so the line's identity is
        # also kept as one string the database can hold unique on every engine.
        UniqueConstraint("tna_id", "line_key"),
        CheckConstraint(
            "(course_id IS NULL) <> (level_id IS NULL)", name="course_or_level"
        ),
        CheckConstraint("needed >= 0 AND staff_in_scope >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tna_id: Mapped[int] = mapped_column(ForeignKey("training_needs_analyses.id"), index=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    line_key: Mapped[str] = mapped_column(String(80))
    staff_in_scope: Mapped[int] = mapped_column(default=0)
    needed: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    tna: Mapped[TrainingNeedsAnalysis] = relationship(back_populates="lines")
    sector: Mapped[Sector] = relationship()
    agency: Mapped[Agency | None] = relationship()
    course: Mapped[Course | None] = relationship()
    level: Mapped[Level | None] = relationship()

    @property
    def training_label(self) -> str:
        if self.course is not None:
            return self.course.title
        return f"Any {self.level.name} course" if self.level else ""


def line_key(sector_id: int, agency_id: int | None, course_id: int | None,
             level_id: int | None) -> str:
    """The identity of a line within its analysis, as one string."""
    training = f"c{course_id}" if course_id else f"l{level_id}"
    return f"s{sector_id}:a{agency_id or 0}:{training}"


class TnaImport(db.Model):
    """An uploaded CSV file: its checked rows wait here until someone applies or discards them."""

    __tablename__ = "tna_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the import creates a new analysis (its name and period are kept below).
    tna_id: Mapped[int | None] = mapped_column(ForeignKey("training_needs_analyses.id"), index=True)
    new_name: Mapped[str] = mapped_column(String(200), default="")
    new_starts_on: Mapped[date | None]
    new_ends_on: Mapped[date | None]
    filename: Mapped[str] = mapped_column(String(255), default="")
    rows_json: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)

    tna: Mapped[TrainingNeedsAnalysis | None] = relationship(back_populates="imports")
    uploaded_by: Mapped[User] = relationship()


class GapReminder(db.Model):
    """An e-mail to an agency's coordinators about a gap: at most one per week for each gap."""

    __tablename__ = "gap_reminders"
    __table_args__ = (UniqueConstraint("tna_id", "agency_id", "training_key", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tna_id: Mapped[int] = mapped_column(ForeignKey("training_needs_analyses.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    training_key: Mapped[str] = mapped_column(String(20))  # "c<id>" or "l<id>"
    week: Mapped[str] = mapped_column(String(10))  # ISO year and week, e.g. "2027-W09"
    recipients: Mapped[int] = mapped_column(default=0)
    sessions_offered: Mapped[int] = mapped_column(default=0)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()
    sent_by: Mapped[User | None] = relationship()


class NeedsProposal(db.Model):
    """An agency coordinator's proposed training needs figures for their agency in one analysis.

    The L&D team accepts it as proposed or edited; the proposal keeps what was proposed and what
    was accepted, by whom and when, so the history is never lost."""

    __tablename__ = "needs_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    tna_id: Mapped[int] = mapped_column(ForeignKey("training_needs_analyses.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    staff_in_scope: Mapped[int] = mapped_column(default=0)
    accepted_staff_in_scope: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    tna: Mapped[TrainingNeedsAnalysis] = relationship()
    agency: Mapped[Agency] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    lines: Mapped[list[NeedsProposalLine]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="NeedsProposalLine.id")

    @property
    def state_label(self) -> str:
        return PROPOSAL_STATE_LABELS.get(self.status, self.status)


class NeedsProposalLine(db.Model):
    """How many of the agency's staff need one course, or any course at a level: proposed, and accepted."""

    __tablename__ = "needs_proposal_lines"
    __table_args__ = (
        CheckConstraint("(course_id IS NULL) <> (level_id IS NULL)", name="course_or_level"),
        CheckConstraint("needed >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("needs_proposals.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    needed: Mapped[int] = mapped_column(default=0)
    accepted_needed: Mapped[int | None]

    proposal: Mapped[NeedsProposal] = relationship(back_populates="lines")
    course: Mapped[Course | None] = relationship()
    level: Mapped[Level | None] = relationship()

    @property
    def training_key(self) -> str:
        return f"c{self.course_id}" if self.course_id else f"l{self.level_id}"

    @property
    def training_label(self) -> str:
        if self.course is not None:
            return self.course.title
        return f"Any {self.level.name} course" if self.level else ""
